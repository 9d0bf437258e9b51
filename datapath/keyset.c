// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86DD
#define PROTO_ICMP 1
#define PROTO_ICMPV6 58

size_t sl_port_blocks(const struct sl_port_range *r, struct sl_port_block *out)
{
	uint32_t lo = r->lo, hi = r->hi;
	size_t n = 0;

	while (lo <= hi) {
		uint32_t size = 1;

		/* Grow while the block stays aligned at lo and inside the range. */
		while (size < 65536 && (lo & (size * 2 - 1)) == 0 && lo + size * 2 - 1 <= hi)
			size *= 2;
		out[n].value = (uint16_t)lo;
		out[n].mask = (uint16_t)(~(size - 1) & 0xffff);
		n++;
		lo += size;
	}
	return n;
}

static void prefix_mask(uint8_t plen, __be32 mask[4])
{
	for (int i = 0; i < 4; i++) {
		int bits = plen - i * 32;
		uint32_t m;

		if (bits >= 32)
			m = 0xffffffffu;
		else if (bits <= 0)
			m = 0;
		else
			m = 0xffffffffu << (32 - bits);
		mask[i] = htonl(m);
	}
}

static void prefix_words(const struct sl_prefix *p, __be32 out[4])
{
	memset(out, 0, 16);
	memcpy(out, p->addr, p->family == 4 ? 4 : 16);
}

/* Which shape families a match lives in; returns how many (1 or 2). */
static int match_families(const struct sl_match *m, uint8_t fam[2])
{
	if (m->has_src) {
		fam[0] = m->src.family;
		return 1;
	}
	if (m->has_dst) {
		fam[0] = m->dst.family;
		return 1;
	}
	if (m->has_proto && m->proto == PROTO_ICMP) {
		fam[0] = SL_FAMILY_IPV4;
		return 1;
	}
	if (m->has_proto && m->proto == PROTO_ICMPV6) {
		fam[0] = SL_FAMILY_IPV6;
		return 1;
	}
	if (m->has_ether_type && m->ether_type == ETHERTYPE_IPV4) {
		fam[0] = SL_FAMILY_IPV4;
		return 1;
	}
	if (m->has_ether_type && m->ether_type == ETHERTYPE_IPV6) {
		fam[0] = SL_FAMILY_IPV6;
		return 1;
	}
	if (m->has_proto) {
		fam[0] = SL_FAMILY_IPV4;
		fam[1] = SL_FAMILY_IPV6;
		return 2;
	}
	fam[0] = SL_FAMILY_ANY;
	return 1;
}

int sl_keyset_expand(const struct sl_match *m, struct sl_entry **out, struct sl_err *err)
{
	static const struct sl_port_range any_port = { 0, 65535 };
	struct sl_port_block sblk[32], dblk[32];
	size_t ns, nd, n = 0;
	struct sl_entry *entries;
	uint8_t fam[2];
	int nfam, rc;

	rc = sl_match_validate(m, err);
	if (rc)
		return rc;
	nfam = match_families(m, fam);
	ns = sl_port_blocks(m->has_sport ? &m->sport : &any_port, sblk);
	nd = sl_port_blocks(m->has_dport ? &m->dport : &any_port, dblk);

	entries = calloc((size_t)nfam * ns * nd, sizeof(*entries));
	if (!entries)
		return sl_err_set(err, ENOMEM, "out of memory expanding a rule");

	for (int f = 0; f < nfam; f++) {
		for (size_t i = 0; i < ns; i++) {
			for (size_t j = 0; j < nd; j++) {
				struct sl_entry *e = &entries[n++];
				struct sl_shape *sh = &e->shape;
				struct sl_key *k = &e->key;

				sh->family = fam[f];
				if (m->has_src) {
					prefix_mask(m->src.plen, sh->src_mask);
					prefix_words(&m->src, k->src);
				}
				if (m->has_dst) {
					prefix_mask(m->dst.plen, sh->dst_mask);
					prefix_words(&m->dst, k->dst);
				}
				if (m->has_proto) {
					sh->proto_mask = 0xff;
					sh->proto = m->proto;
					k->proto = m->proto;
				}
				/* For IP families the family already implies the ether type. */
				if (m->has_ether_type && fam[f] == SL_FAMILY_ANY) {
					sh->ether_type_mask = 0xffff;
					k->ether_type = htons(m->ether_type);
				}
				sh->sport_mask = htons(sblk[i].mask);
				sh->dport_mask = htons(dblk[j].mask);
				k->sport = htons(sblk[i].value);
				k->dport = htons(dblk[j].value);
				sh->needs_ports = m->has_sport || m->has_dport;
			}
		}
	}
	*out = entries;
	return (int)n;
}

int sl_shape_equal(const struct sl_shape *a, const struct sl_shape *b)
{
	return !memcmp(a->src_mask, b->src_mask, sizeof(a->src_mask)) &&
	       !memcmp(a->dst_mask, b->dst_mask, sizeof(a->dst_mask)) &&
	       a->ether_type_mask == b->ether_type_mask && a->sport_mask == b->sport_mask &&
	       a->dport_mask == b->dport_mask && a->proto_mask == b->proto_mask &&
	       a->proto == b->proto && a->action == b->action &&
	       a->family == b->family && a->needs_ports == b->needs_ports;
}

bool sl_shape_in_class(const struct sl_shape *sh, uint8_t family, bool has_ports, uint32_t proto)
{
	if (sh->family != SL_FAMILY_ANY && sh->family != family)
		return false;
	if (sh->needs_ports && !has_ports)
		return false;
	/* Protocol shapes never match a packet whose transport header is out of reach. */
	if (sh->proto_mask && (proto == SL_PROTO_UNKNOWN || proto != sh->proto))
		return false;
	return true;
}

void sl_shape_mask_key(const struct sl_shape *sh, struct sl_key *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = sh->proto_mask;
	out->ether_type = sh->ether_type_mask;
	out->sport = sh->sport_mask;
	out->dport = sh->dport_mask;
	memcpy(out->src, sh->src_mask, sizeof(out->src));
	memcpy(out->dst, sh->dst_mask, sizeof(out->dst));
}
