// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "match.h"

#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132
#define PROTO_UDPLITE 136

static const struct {
	const char *name;
	uint8_t num;
} proto_names[] = {
	{ "icmp", PROTO_ICMP }, { "tcp", PROTO_TCP }, { "udp", PROTO_UDP },
	{ "icmpv6", PROTO_ICMPV6 }, { "sctp", PROTO_SCTP }, { "udplite", PROTO_UDPLITE },
};

static const struct {
	const char *name;
	uint16_t num;
} ether_type_names[] = {
	{ "arp", ETHERTYPE_ARP }, { "ipv4", ETHERTYPE_IPV4 }, { "ipv6", ETHERTYPE_IPV6 },
};

/* Strict decimal: digits only, no sign, no spaces, value <= max. */
static int parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	char *end;

	if (!text[0] || text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(text, &end, 10);
	if (errno || *end || *out > max)
		return -EINVAL;
	return 0;
}

int sl_parse_prefix(const char *text, struct sl_prefix *out, struct sl_err *err)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	unsigned long plen;
	int max;

	memset(out, 0, sizeof(*out));
	if (alen == 0 || alen >= sizeof(addr))
		return sl_err_set(err, EINVAL, "'%s' is not an IP address or prefix", text);
	memcpy(addr, text, alen);
	addr[alen] = '\0';

	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = 6;
		max = 128;
	} else {
		return sl_err_set(err, EINVAL, "'%s' is not an IP address or prefix", text);
	}
	if (slash) {
		if (parse_uint(slash + 1, (unsigned long)max, &plen))
			return sl_err_set(err, EINVAL, "'%s': prefix length must be 0-%d", text, max);
	} else {
		plen = (unsigned long)max;
	}
	out->plen = (uint8_t)plen;

	/* Host bits set usually mean a typo; refuse rather than guess. */
	for (int bit = (int)plen; bit < max; bit++) {
		if (out->addr[bit / 8] & (0x80 >> (bit % 8)))
			return sl_err_set(err, EINVAL,
					  "'%s' has host bits set beyond /%lu", text, plen);
	}
	return 0;
}

int sl_parse_port_range(const char *text, struct sl_port_range *out, struct sl_err *err)
{
	char first[8];
	const char *dash = strchr(text, '-');
	unsigned long lo, hi;
	size_t flen = dash ? (size_t)(dash - text) : strlen(text);

	if (flen == 0 || flen >= sizeof(first))
		goto bad;
	memcpy(first, text, flen);
	first[flen] = '\0';
	if (parse_uint(first, 65535, &lo))
		goto bad;
	hi = lo;
	if (dash && parse_uint(dash + 1, 65535, &hi))
		goto bad;
	if (hi < lo)
		return sl_err_set(err, EINVAL, "port range '%s' is reversed (%lu > %lu)", text, lo, hi);
	out->lo = (uint16_t)lo;
	out->hi = (uint16_t)hi;
	return 0;
bad:
	return sl_err_set(err, EINVAL, "'%s' is not a port (0-65535) or range (LO-HI)", text);
}

int sl_parse_proto(const char *text, uint8_t *out, struct sl_err *err)
{
	unsigned long num;

	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++) {
		if (!strcasecmp(text, proto_names[i].name)) {
			*out = proto_names[i].num;
			return 0;
		}
	}
	if (parse_uint(text, 255, &num))
		return sl_err_set(err, EINVAL,
				  "'%s' is not a protocol (tcp, udp, icmp, icmpv6, sctp, udplite or 0-255)",
				  text);
	*out = (uint8_t)num;
	return 0;
}

int sl_parse_ether_type(const char *text, uint16_t *out, struct sl_err *err)
{
	char *end;
	unsigned long num;

	for (size_t i = 0; i < sizeof(ether_type_names) / sizeof(ether_type_names[0]); i++) {
		if (!strcasecmp(text, ether_type_names[i].name)) {
			*out = ether_type_names[i].num;
			return 0;
		}
	}
	if (strncasecmp(text, "0x", 2) || !text[2] || strlen(text) > 6)
		goto bad;
	/* strtoul alone would take spaces, a sign or a second 0x. */
	for (const char *p = text + 2; *p; p++)
		if (!isxdigit((unsigned char)*p))
			goto bad;
	errno = 0;
	num = strtoul(text + 2, &end, 16);
	if (errno || *end || num > 0xffff || num < 0x0600)
		goto bad;
	*out = (uint16_t)num;
	return 0;
bad:
	return sl_err_set(err, EINVAL,
			  "'%s' is not an ether type (arp, ipv4, ipv6 or 0x0600-0xffff)", text);
}

static bool proto_has_ports(uint8_t proto)
{
	return proto == PROTO_TCP || proto == PROTO_UDP || proto == PROTO_SCTP ||
	       proto == PROTO_UDPLITE;
}

int sl_match_validate(const struct sl_match *m, struct sl_err *err)
{
	int family = 0;

	if (!m->has_src && !m->has_dst && !m->has_proto && !m->has_sport &&
	    !m->has_dport && !m->has_ether_type)
		return sl_err_set(err, EINVAL,
				  "a rule needs at least one match field (src, dst, proto, sport, dport, ether-type)");
	if (m->has_src)
		family = m->src.family;
	if (m->has_dst) {
		if (family && family != m->dst.family)
			return sl_err_set(err, EINVAL, "src is IPv%d but dst is IPv%d", family,
					  m->dst.family);
		family = m->dst.family;
	}
	if (m->has_proto && m->proto == PROTO_ICMP) {
		if (family == 6)
			return sl_err_set(err, EINVAL, "proto icmp is IPv4; use icmpv6 with IPv6 addresses");
		family = 4;
	}
	if (m->has_proto && m->proto == PROTO_ICMPV6) {
		if (family == 4)
			return sl_err_set(err, EINVAL, "proto icmpv6 is IPv6; use icmp with IPv4 addresses");
		family = 6;
	}
	if ((m->has_sport || m->has_dport) && (!m->has_proto || !proto_has_ports(m->proto)))
		return sl_err_set(err, EINVAL,
				  "sport/dport need proto tcp, udp, sctp or udplite");
	if (m->has_ether_type) {
		bool l3 = m->has_src || m->has_dst || m->has_proto;

		if (m->ether_type == ETHERTYPE_IPV4 && family == 6)
			return sl_err_set(err, EINVAL, "ether-type ipv4 conflicts with IPv6 fields");
		if (m->ether_type == ETHERTYPE_IPV6 && family == 4)
			return sl_err_set(err, EINVAL, "ether-type ipv6 conflicts with IPv4 fields");
		if (l3 && m->ether_type != ETHERTYPE_IPV4 && m->ether_type != ETHERTYPE_IPV6)
			return sl_err_set(err, EINVAL,
					  "ether-type 0x%04x carries no IP header to match src/dst/proto on",
					  m->ether_type);
	}
	return 0;
}

int sl_match_family(const struct sl_match *m)
{
	if (m->has_src)
		return m->src.family;
	if (m->has_dst)
		return m->dst.family;
	if (m->has_proto && m->proto == PROTO_ICMP)
		return 4;
	if (m->has_proto && m->proto == PROTO_ICMPV6)
		return 6;
	if (m->has_ether_type && m->ether_type == ETHERTYPE_IPV4)
		return 4;
	if (m->has_ether_type && m->ether_type == ETHERTYPE_IPV6)
		return 6;
	return 0;
}

/* Bits a port range pins down: 16 for one port, 0 for all of them. */
static unsigned int port_bits(const struct sl_port_range *r)
{
	uint32_t size = (uint32_t)r->hi - r->lo + 1;
	unsigned int bits = 16;

	while (bits > 0 && (1u << (16 - bits)) < size)
		bits--;
	return bits;
}

unsigned int sl_match_specificity(const struct sl_match *m)
{
	unsigned int bits = 0;

	if (m->has_src)
		bits += m->src.plen;
	if (m->has_dst)
		bits += m->dst.plen;
	if (m->has_proto)
		bits += 8;
	if (m->has_sport)
		bits += port_bits(&m->sport);
	if (m->has_dport)
		bits += port_bits(&m->dport);
	if (m->has_ether_type)
		bits += 16;
	return bits;
}

void sl_format_prefix(const struct sl_prefix *p, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->addr, addr, sizeof(addr));
	if (p->plen == (p->family == 4 ? 32 : 128))
		snprintf(buf, len, "%s", addr);
	else
		snprintf(buf, len, "%s/%u", addr, p->plen);
}

void sl_format_port_range(const struct sl_port_range *r, char *buf, size_t len)
{
	if (r->lo == r->hi)
		snprintf(buf, len, "%u", r->lo);
	else
		snprintf(buf, len, "%u-%u", r->lo, r->hi);
}

const char *sl_proto_name(uint8_t proto)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (proto_names[i].num == proto)
			return proto_names[i].name;
	return NULL;
}

const char *sl_ether_type_name(uint16_t ether_type)
{
	for (size_t i = 0; i < sizeof(ether_type_names) / sizeof(ether_type_names[0]); i++)
		if (ether_type_names[i].num == ether_type)
			return ether_type_names[i].name;
	return NULL;
}
