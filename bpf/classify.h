/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tuple space search over the active shapes: one masked hash probe per
 * shape, first hit wins. Shapes sit in the slot order user space gave them,
 * so when rules of several shapes match, which one is counted is not
 * specified (every match drops).
 */
#ifndef SLUICE_CLASSIFY_H
#define SLUICE_CLASSIFY_H

#include "maps.h"
#include "parse.h"

static __always_inline void sl_mask_key(struct sl_key *key,
					const struct sl_key *flow,
					const struct sl_shape *sh, __u32 idx)
{
	key->shape = idx;
	key->proto = flow->proto & sh->proto_mask;
	key->ether_type = flow->ether_type & sh->ether_type_mask;
	key->sport = flow->sport & sh->sport_mask;
	key->dport = flow->dport & sh->dport_mask;
	key->src[0] = flow->src[0] & sh->src_mask[0];
	key->src[1] = flow->src[1] & sh->src_mask[1];
	key->src[2] = flow->src[2] & sh->src_mask[2];
	key->src[3] = flow->src[3] & sh->src_mask[3];
	key->dst[0] = flow->dst[0] & sh->dst_mask[0];
	key->dst[1] = flow->dst[1] & sh->dst_mask[1];
	key->dst[2] = flow->dst[2] & sh->dst_mask[2];
	key->dst[3] = flow->dst[3] & sh->dst_mask[3];
}

/*
 * Returns the matching rule's slot, or -1. A global function: the verifier
 * checks it once on its own instead of once per parser path, which keeps
 * the programs far below the verifier's instruction budget.
 */
__attribute__((noinline)) int sl_classify(const struct sl_pkt *pkt)
{
	struct sl_config *cfg;
	struct sl_key key;
	__u32 zero = 0, hi, shift, i;

	if (!pkt)
		return -1;
	cfg = bpf_map_lookup_elem(&sl_config, &zero);
	if (!cfg)
		return -1;
	hi = cfg->shapes_hi;
	shift = cfg->bloom_shift;

	for (i = 0; i < SL_MAX_SHAPES; i++) {
		struct sl_rule_val *val;
		struct sl_shape *sh;

		if (i >= hi)
			break;
		sh = bpf_map_lookup_elem(&sl_shapes, &i);
		if (!sh || !sh->active)
			continue;
		if (sh->family != SL_FAMILY_ANY && sh->family != pkt->family)
			continue;
		if (sh->needs_ports && !pkt->has_ports)
			continue;
		/* The protocol is part of a shape: other protocols' shapes cost one compare. */
		if (sh->proto_mask && (pkt->l4_unknown || sh->proto != pkt->flow.proto))
			continue;
		sl_mask_key(&key, &pkt->flow, sh, i);
		if (shift && shift < 64) {
			__u64 bit = sl_bloom_hash(&key) >> shift;
			__u32 word = (__u32)(bit >> 6);
			__u64 *bits = bpf_map_lookup_elem(&sl_bloom, &word);

			if (bits && !(*bits & (1ull << (bit & 63))))
				continue; /* no key of this shape hashes here */
		}
		val = bpf_map_lookup_elem(&sl_rules, &key);
		if (val)
			return (int)(val->slot & 0x7fffffff);
	}
	return -1;
}

static __always_inline void sl_count(__u32 slot, __u64 bytes)
{
	struct sl_counter *c = bpf_map_lookup_elem(&sl_counters, &slot);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

#endif
