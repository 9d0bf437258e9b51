/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tuple space search over the shapes that can match the packet's class: one
 * prefilter test per candidate shape and a masked hash probe when it passes.
 * Drop shapes come first and their first hit wins: shapes are probed in
 * index order, so when drop rules of several shapes match, which one is
 * counted is not specified (every match drops). Then redirect shapes, all of
 * them, and the hit with the lowest rank wins.
 */
#ifndef SLUICE_CLASSIFY_H
#define SLUICE_CLASSIFY_H

#include "maps.h"
#include "parse.h"

/*
 * ipv6 is a constant at each call: IPv4 and non-IP packets have zero in the
 * address words w[2] and w[4], so their loop never touches them.
 */
static __always_inline int sl_probe_shapes(const struct sl_fastpath *fp,
					   const struct sl_pkt *pkt, __u32 cand,
					   const int ipv6, const int best_rank)
{
	const struct sl_key *f = &pkt->flow;
	struct sl_key key = {};
	__u64 rank = ~0ull;
	int best = -1, hit;
	__u32 i;

	for (i = 0; i < SL_MAX_SHAPES; i++) {
		const struct sl_key *m = &fp->shape_mask[i];
		struct sl_rule_val *val;
		__u32 bit;

		if (!(cand >> i))
			break;
		if (!((cand >> i) & 1))
			continue;
		key.w[0] = (f->w[0] & m->w[0]) | SL_KEY_SHAPE_BITS(i);
		key.w[1] = f->w[1] & m->w[1];
		key.w[3] = f->w[3] & m->w[3];
		if (ipv6) {
			key.w[2] = f->w[2] & m->w[2];
			key.w[4] = f->w[4] & m->w[4];
		}
		bit = sl_bloom_bit(sl_bloom_hash_words(key.w[0], key.w[1], ipv6 ? key.w[2] : 0,
						       key.w[3], ipv6 ? key.w[4] : 0));
		if (!(fp->bloom[bit >> 6] & (1ull << (bit & 63))))
			continue; /* no key of this shape hashes here */
		if (ipv6 && ((fp->wide_shapes >> i) & 1)) {
			val = bpf_map_lookup_elem(&sl_rules, &key);
		} else {
			struct sl_key4 k4 = sl_key4_of(&key);

			val = bpf_map_lookup_elem(&sl_rules4, &k4);
		}
		if (!val)
			continue;
		hit = (int)((val->slot & SL_HIT_SLOT_MASK) | (val->action << SL_HIT_ACTION_SHIFT));
		if (!best_rank)
			return hit;
		if (val->rank < rank) {
			rank = val->rank;
			best = hit;
		}
	}
	return best;
}

static __always_inline int sl_search(const struct sl_fastpath *fp, const struct sl_pkt *pkt,
				     __u32 cand, const int best_rank)
{
	if (pkt->family == SL_FAMILY_IPV6)
		return sl_probe_shapes(fp, pkt, cand, 1, best_rank);
	return sl_probe_shapes(fp, pkt, cand, 0, best_rank);
}

/*
 * Searches the rules `which` asks for (SL_SEARCH_*) and returns the hit:
 * the rule's slot with its action above SL_HIT_ACTION_SHIFT, or -1. A
 * global function: the verifier checks it once on its own instead of once
 * per parser path, which keeps the programs far below the verifier's
 * instruction budget.
 */
__attribute__((noinline)) int sl_classify(const struct sl_pkt *pkt, int which)
{
	const struct sl_fastpath *fp;
	__u32 zero = 0, cls, cand, drops;
	int slot;

	if (!pkt)
		return -1;
	fp = bpf_map_lookup_elem(&sl_fast, &zero);
	if (!fp)
		return -1;
	cls = sl_class_index(pkt->family, pkt->has_ports,
			     pkt->l4_unknown ? SL_PROTO_UNKNOWN : pkt->flow.proto);
	if (cls >= SL_NCLASSES)
		return -1;
	cand = fp->class_shapes[cls];
	drops = cand & ~fp->redirect_shapes;
	if (drops && (which & SL_SEARCH_DROP)) {
		slot = sl_search(fp, pkt, drops, 0);
		if (slot >= 0)
			return slot;
	}
	cand &= fp->redirect_shapes;
	if (!cand || !(which & SL_SEARCH_RANKED))
		return -1;
	return sl_search(fp, pkt, cand, 1);
}

static __always_inline __u32 sl_hit_action(int hit)
{
	return (__u32)hit >> SL_HIT_ACTION_SHIFT;
}

static __always_inline __u32 sl_hit_slot(int hit)
{
	return (__u32)hit & SL_HIT_SLOT_MASK;
}

/* Whether conntrack may hold flows this instance translates or restores. */
static __always_inline int sl_ct_active(void)
{
	__u32 zero = 0;
	const struct sl_fastpath *fp = bpf_map_lookup_elem(&sl_fast, &zero);

	return fp && fp->ct_active;
}

static __always_inline struct sl_counter *sl_count(__u32 slot, __u64 bytes)
{
	struct sl_counter *c = bpf_map_lookup_elem(&sl_counters, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	return c;
}

#endif
