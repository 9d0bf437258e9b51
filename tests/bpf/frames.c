// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "frames.h"

#define ETH_HDR_LEN 14
#define TAG_LEN 4
#define IPV4_HDR_LEN 20
#define IPV6_HDR_LEN 40
#define ARP_BODY_LEN 28

static const uint8_t dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

/* Byte-wise writers: frame offsets are arbitrary, so no aligned stores. */
static void put8(struct frame *f, uint8_t v)
{
	f->data[f->len++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void put_bytes(struct frame *f, const void *p, size_t n)
{
	memcpy(f->data + f->len, p, n);
	f->len += n;
}

static void put_fill(struct frame *f, uint8_t v, size_t n)
{
	memset(f->data + f->len, v, n);
	f->len += n;
}

static void set16(struct frame *f, size_t off, uint16_t v)
{
	f->data[off] = (uint8_t)(v >> 8);
	f->data[off + 1] = (uint8_t)v;
}

static int parse_addr(int family, const char *text, const char *fallback, uint8_t *out)
{
	return inet_pton(family == 4 ? AF_INET : AF_INET6, text ? text : fallback, out) == 1 ?
		       0 : -EINVAL;
}

static size_t ext_len(uint8_t type)
{
	switch (type) {
	case FRAME_EXT_HOPOPTS: return 8;
	case FRAME_EXT_DSTOPTS: return 16; /* hdrlen 1: checks the 8-byte unit scaling */
	case FRAME_EXT_ROUTING: return 24;
	case FRAME_EXT_FRAGMENT: return 8;
	case FRAME_EXT_AH: return 24;      /* AH counts in 4-byte units, unlike the others */
	default: return 0;
	}
}

static size_t l4_hdr_len(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return 20;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE: return 8;
	case IPPROTO_SCTP: return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 8;
	default: return 0;
	}
}

static void put_l2(const struct frame_spec *s, struct frame *f, uint16_t inner)
{
	put_bytes(f, dst_mac, sizeof(dst_mac));
	put_bytes(f, src_mac, sizeof(src_mac));
	switch (s->tags) {
	case FRAME_UNTAGGED:
		put16(f, inner);
		break;
	case FRAME_8021Q:
		put16(f, FRAME_ETH_P_8021Q);
		f->tag_off[f->ntags++] = f->len;
		put16(f, 100); /* TCI: VLAN 100 */
		put16(f, inner);
		break;
	case FRAME_QINQ:
		put16(f, FRAME_ETH_P_8021AD);
		f->tag_off[f->ntags++] = f->len;
		put16(f, 200); /* service VLAN */
		put16(f, FRAME_ETH_P_8021Q);
		f->tag_off[f->ntags++] = f->len;
		put16(f, 100); /* customer VLAN */
		put16(f, inner);
		break;
	}
}

static void put_arp(struct frame *f)
{
	static const uint8_t spa[4] = { 192, 0, 2, 1 }, tpa[4] = { 192, 0, 2, 2 };

	put16(f, 1);            /* Ethernet */
	put16(f, FRAME_ETH_P_IP);
	put8(f, 6);
	put8(f, 4);
	put16(f, 1);            /* request */
	put_bytes(f, src_mac, 6);
	put_bytes(f, spa, 4);
	put_fill(f, 0, 6);
	put_bytes(f, tpa, 4);
}

static uint16_t ipv4_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static int put_ipv4(const struct frame_spec *s, struct frame *f, size_t l4_len)
{
	uint8_t src[4], dst[4];
	size_t hlen = IPV4_HDR_LEN + s->ip_opt_len;
	uint16_t frag = (uint16_t)((s->dont_fragment ? 0x4000 : 0) | (s->more_fragments ? 0x2000 : 0) |
				   (s->frag_offset & 0x1fff));

	if (s->ip_opt_len % 4 || s->ip_opt_len > 40 || s->ihl > 15)
		return -EINVAL;
	if (parse_addr(4, s->src, "192.0.2.1", src) || parse_addr(4, s->dst, "198.51.100.1", dst))
		return -EINVAL;

	f->l3_off = f->len;
	put8(f, (uint8_t)(0x40 | (s->ihl ? s->ihl : hlen / 4)));
	put8(f, 0);
	put16(f, (uint16_t)(hlen + l4_len));
	put16(f, 0x1234);
	put16(f, frag);
	put8(f, 64);
	put8(f, s->proto);
	put16(f, 0); /* checksum, filled in below */
	put_bytes(f, src, 4);
	put_bytes(f, dst, 4);
	if (s->ip_opt_len) {
		f->ip_opt_off = f->len;
		/* Router Alert, then NOPs: a real option the parser must skip whole. */
		put8(f, 0x94);
		put8(f, 4);
		put16(f, 0);
		put_fill(f, 1, s->ip_opt_len - 4u);
	}
	set16(f, f->l3_off + 10, ipv4_csum(f->data + f->l3_off, hlen));
	return 0;
}

static void put_ext(const struct frame_spec *s, struct frame *f, uint8_t type, uint8_t next)
{
	size_t len = ext_len(type);

	f->ext_off[f->next++] = f->len;
	put8(f, next);
	switch (type) {
	case FRAME_EXT_HOPOPTS:
	case FRAME_EXT_DSTOPTS:
		put8(f, (uint8_t)(len / 8 - 1));
		put8(f, 1); /* PadN covering the rest */
		put8(f, (uint8_t)(len - 4));
		put_fill(f, 0, len - 4);
		break;
	case FRAME_EXT_ROUTING:
		put8(f, (uint8_t)(len / 8 - 1));
		put8(f, 253); /* experimental routing type */
		put8(f, 0);   /* segments left: nothing to process */
		put_fill(f, 0, len - 4);
		break;
	case FRAME_EXT_FRAGMENT:
		put8(f, 0);
		put16(f, (uint16_t)((s->frag_offset << 3) | (s->more_fragments ? 1 : 0)));
		put32(f, 0xabcd1234);
		break;
	case FRAME_EXT_AH:
		put8(f, (uint8_t)(len / 4 - 2));
		put16(f, 0);
		put32(f, 0x1000); /* SPI */
		put32(f, 1);      /* sequence */
		put_fill(f, 0xaa, len - 12); /* ICV */
		break;
	}
}

static int put_ipv6(const struct frame_spec *s, struct frame *f, size_t l4_len)
{
	uint8_t src[16], dst[16];
	size_t ext_total = 0;

	if (s->next < 0 || s->next > FRAME_MAX_EXT)
		return -EINVAL;
	for (int i = 0; i < s->next; i++) {
		if (!ext_len(s->ext[i]))
			return -EINVAL;
		ext_total += ext_len(s->ext[i]);
	}
	if (parse_addr(6, s->src, "2001:db8::1", src) ||
	    parse_addr(6, s->dst, "2001:db8:ffff::2", dst))
		return -EINVAL;

	f->l3_off = f->len;
	put32(f, 0x60000000);
	put16(f, (uint16_t)(ext_total + l4_len));
	put8(f, s->next ? s->ext[0] : s->proto);
	put8(f, 64);
	put_bytes(f, src, 16);
	put_bytes(f, dst, 16);
	for (int i = 0; i < s->next; i++)
		put_ext(s, f, s->ext[i], i + 1 < s->next ? s->ext[i + 1] : s->proto);
	return 0;
}

/*
 * Later fragments carry no L4 header, but the builder still writes one: the
 * bytes then look like ports, so a parser that wrongly reads them matches.
 */
static void put_l4(const struct frame_spec *s, struct frame *f)
{
	f->l4_off = f->len;
	switch (s->proto) {
	case IPPROTO_TCP:
		put16(f, s->sport);
		put16(f, s->dport);
		put32(f, 1);      /* seq */
		put32(f, 0);      /* ack */
		put8(f, 5 << 4);  /* data offset */
		put8(f, 0x02);    /* SYN */
		put16(f, 65535);
		put16(f, 0);      /* checksum: nothing on this path verifies it */
		put16(f, 0);
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		put16(f, s->sport);
		put16(f, s->dport);
		put16(f, (uint16_t)(8 + s->payload_len)); /* UDP-Lite: checksum coverage */
		put16(f, 0);
		break;
	case IPPROTO_SCTP:
		put16(f, s->sport);
		put16(f, s->dport);
		put32(f, 0x5c7a9); /* verification tag */
		put32(f, 0);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		put8(f, s->proto == IPPROTO_ICMP ? 8 : 128); /* echo request */
		put8(f, 0);
		put16(f, 0);
		put16(f, 0x42);
		put16(f, 1);
		break;
	}
	put_fill(f, 0x5a, s->payload_len);
}

int frame_build(const struct frame_spec *s, struct frame *f)
{
	size_t l4_len = l4_hdr_len(s->proto) + s->payload_len;
	size_t worst = ETH_HDR_LEN + 2 * TAG_LEN + IPV6_HDR_LEN + 60 + FRAME_MAX_EXT * 24 + l4_len;
	uint16_t inner;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	if (worst > FRAME_MAX)
		return -EINVAL;
	if (s->family == 4)
		inner = FRAME_ETH_P_IP;
	else if (s->family == 6)
		inner = FRAME_ETH_P_IPV6;
	else if (s->family == 0)
		inner = s->ether_type ? s->ether_type : FRAME_ETH_P_ARP;
	else
		return -EINVAL;

	put_l2(s, f, inner);
	if (s->family == 0) {
		f->l3_off = f->len;
		if (inner == FRAME_ETH_P_ARP)
			put_arp(f);
		put_fill(f, 0x5a, s->payload_len);
		return 0;
	}
	rc = s->family == 4 ? put_ipv4(s, f, l4_len) : put_ipv6(s, f, l4_len);
	if (rc)
		return rc;
	put_l4(s, f);
	return 0;
}

void frame_truncate(struct frame *f, size_t len)
{
	if (len < f->len)
		f->len = len;
}
