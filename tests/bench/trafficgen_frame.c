// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The template frame: Ethernet, IPv4 without options, UDP, a payload that
 * pads it to the requested size. Both checksums are computed in full here;
 * flows then change the UDP source port and, with --src-ips, the IPv4 source
 * address, and the checksums follow by the same incremental formulas the BPF
 * program uses, always from the template's values.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "trafficgen.h"

int tg_parse_mac(const char *s, uint8_t mac[TG_ETH_ALEN])
{
	unsigned int b[TG_ETH_ALEN];
	char tail;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != TG_ETH_ALEN)
		return -EINVAL;
	/* sscanf accepts "+1" and "-1" for %x: insist on hex digits and colons. */
	for (const char *p = s; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		      (*p >= 'A' && *p <= 'F') || *p == ':'))
			return -EINVAL;
	for (i = 0; i < TG_ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

void tg_format_mac(const uint8_t mac[TG_ETH_ALEN], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

/* Ones' complement sum of 16-bit words in network order (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Ones' complement sum of the two 16-bit words of a 32-bit value, as stored. */
static uint32_t csum_add32(uint32_t sum, uint32_t v)
{
	return sum + (v & 0xffff) + (v >> 16);
}

static uint16_t fold16(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * The template-constant half of RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'),
 * for frames that change the source address: ~HC plus the complements of
 * the words they replace. All words are taken as stored (network order read
 * natively), like the BPF program takes them; the ones' complement sum does
 * not care about byte order as long as every word agrees.
 */
static void frame_partials(struct tg_frame *f, const uint8_t *ip, const uint8_t *udp)
{
	uint16_t ip_csum, port;
	uint32_t saddr;

	memcpy(&ip_csum, ip + 10, 2);
	memcpy(&saddr, ip + 12, 4);
	memcpy(&port, udp, 2);
	f->ip_csum_partial = fold16(csum_add32((uint16_t)~ip_csum, ~saddr));
	f->udp_csum_partial =
		fold16(csum_add32((uint32_t)(uint16_t)~f->udp_csum + (uint16_t)~port, ~saddr));
}

int tg_frame_build(struct tg_frame *f, const struct tg_config *cfg)
{
	static const char pattern[] = "sluice-trafficgen ";
	unsigned int ip_len, udp_len, i;
	uint8_t *eth, *ip, *udp;
	uint32_t sum;
	uint16_t csum;

	if (cfg->size < TG_MIN_FRAME || cfg->size > TG_MAX_FRAME)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	f->len = cfg->size;
	eth = f->data;
	ip = eth + 14;
	udp = ip + 20;
	ip_len = f->len - 14;
	udp_len = ip_len - 20;

	memcpy(eth, cfg->dst_mac, TG_ETH_ALEN);
	memcpy(eth + 6, cfg->src_mac, TG_ETH_ALEN);
	put16(eth + 12, 0x0800);

	ip[0] = 0x45; /* version 4, 5 words */
	ip[1] = 0;
	put16(ip + 2, (uint16_t)ip_len);
	put16(ip + 4, 0);      /* id: DF is set, so no fragment ever needs it */
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, &cfg->src_ip, 4);
	memcpy(ip + 16, &cfg->dst_ip, 4);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	put16(udp, cfg->sport);
	put16(udp + 2, cfg->dport);
	put16(udp + 4, (uint16_t)udp_len);
	for (i = 8; i < udp_len; i++)
		udp[i] = (uint8_t)pattern[(i - 8) % (sizeof(pattern) - 1)];

	/* Pseudo header: addresses, protocol, UDP length. */
	sum = csum_add(0, ip + 12, 8);
	sum += IPPROTO_UDP + udp_len;
	sum = csum_add(sum, udp, udp_len);
	csum = csum_fold(sum);
	if (!csum)
		csum = 0xffff; /* 0 would mean "no checksum" */
	put16(udp + 6, csum);

	f->sport = cfg->sport;
	memcpy(&f->udp_csum, udp + 6, 2);
	f->nports = cfg->flows ? cfg->flows : 1;
	f->nsrcs = cfg->src_ips ? cfg->src_ips : 1;
	f->src_ip = ntohl(cfg->src_ip.s_addr);
	frame_partials(f, ip, udp);
	return 0;
}

/* The same RFC 1624 update as trafficgen.bpf.c, from the template's values. */
uint16_t tg_udp_csum_for_port(const struct tg_frame *f, uint16_t port)
{
	uint32_t sum = (uint16_t)~f->udp_csum;

	sum += (uint16_t)~htons(f->sport);
	sum += htons(port);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (uint16_t)~sum;
	return sum ? (uint16_t)sum : 0xffff;
}

/*
 * Rewrites a copy of the template (at frame) for flow number flow, in
 * [0, nports * nsrcs): port sport + flow % nports, address src_ip + flow /
 * nports. Every field it touches it sets from the template's values, so the
 * copy may hold any earlier flow.
 */
void tg_frame_set_flow(uint8_t *frame, const struct tg_frame *f, unsigned int flow)
{
	uint16_t port, csum, ip_csum;
	uint32_t saddr;

	if (f->nsrcs <= 1) {
		/* The source address stays the template's: only the port moves. */
		port = htons((uint16_t)(f->sport + flow));
		csum = tg_udp_csum_for_port(f, (uint16_t)(f->sport + flow));
		memcpy(frame + 14 + 20, &port, 2);
		memcpy(frame + 14 + 20 + 6, &csum, 2);
		return;
	}
	port = htons((uint16_t)(f->sport + flow % f->nports));
	saddr = htonl(f->src_ip + flow / f->nports);
	ip_csum = (uint16_t)~fold16(csum_add32(f->ip_csum_partial, saddr));
	csum = (uint16_t)~fold16(csum_add32((uint32_t)f->udp_csum_partial + port, saddr));
	if (!csum)
		csum = 0xffff; /* 0 would mean "no checksum" */
	memcpy(frame + 14 + 10, &ip_csum, 2);
	memcpy(frame + 14 + 12, &saddr, 4);
	memcpy(frame + 14 + 20, &port, 2);
	memcpy(frame + 14 + 20 + 6, &csum, 2);
}
