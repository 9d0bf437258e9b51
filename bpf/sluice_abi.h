/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The contract between the BPF programs and the user-space datapath library:
 * map layouts and constants. Included by BPF C and by ordinary C, so it uses
 * only fixed-size types.
 */
#ifndef SLUICE_ABI_H
#define SLUICE_ABI_H

#include <linux/types.h>

/*
 * Tuple space search: every rule belongs to a "shape" (which fields it
 * matches and with which masks). A packet costs one hash probe per active
 * shape, whatever the number of rules, so the classifier's cost is bounded
 * by SL_MAX_SHAPES and not by the rule count.
 */
#define SL_MAX_SHAPES 32

/* Shape families: which packets probe the shape. */
#define SL_FAMILY_ANY 0 /* every frame (L2 and L4-only matches) */
#define SL_FAMILY_IPV4 4
#define SL_FAMILY_IPV6 6

/* Classifier key; the packet's fields ANDed with a shape's masks. */
struct sl_key {
	__u8 shape;       /* index of the shape, so shapes never collide */
	__u8 proto;       /* IP protocol (next header after extensions) */
	__be16 ether_type; /* innermost ether type after VLAN tags */
	__be16 sport;
	__be16 dport;
	__be32 src[4];    /* IPv4 uses src[0] only */
	__be32 dst[4];
};

struct sl_shape {
	__be32 src_mask[4];
	__be32 dst_mask[4];
	__be16 ether_type_mask;
	__be16 sport_mask;
	__be16 dport_mask;
	__u8 proto_mask;
	__u8 family;      /* SL_FAMILY_* */
	__u8 active;      /* written last: 1 once all entries of the shape exist */
	__u8 needs_ports; /* the rule names ports: non-first fragments never match */
	__u8 proto;       /* with proto_mask: the protocol of every rule of the shape */
	__u8 pad;
};

/* What a rule does when it matches. */
#define SL_ACTION_DROP 1

struct sl_rule_val {
	__u32 slot;   /* index into the counters map */
	__u32 action; /* SL_ACTION_* */
};

struct sl_counter {
	__u64 packets;
	__u64 bytes;
};

/* Index of the single configuration entry. */
struct sl_config {
	__u32 shapes_hi;   /* probe shapes [0, shapes_hi) */
	__u32 bloom_shift; /* 64 - log2(bits of the prefilter); 0 = no prefilter yet */
};

/*
 * Prefilter in front of the classifier hash: one bit per hashed key, so a
 * shape that cannot match costs a multiply and a load instead of a hash-map
 * lookup. Shared by BPF and user space, which must hash identically; the
 * bit index is the hash's top bits.
 */
static inline __attribute__((always_inline)) __u64 sl_bloom_hash(const struct sl_key *k)
{
	__u64 a = ((__u64)(k->src[0] ^ k->src[2]) << 32) | (k->src[1] ^ k->src[3]);
	__u64 b = ((__u64)(k->dst[0] ^ k->dst[2]) << 32) | (k->dst[1] ^ k->dst[3]);
	__u64 c = ((__u64)k->sport << 48) | ((__u64)k->dport << 32) |
		  ((__u64)k->ether_type << 16) | ((__u64)k->proto << 8) | k->shape;

	return (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^
	       (c * 0x165667B19E3779F9ull);
}

/* Defaults for map sizes; the loader may resize before load. */
#define SL_DEFAULT_RULE_SLOTS 131072
#define SL_DEFAULT_KEYS (4 * SL_DEFAULT_RULE_SLOTS)
/* Prefilter size: 4 bits per classifier key the hook can hold (power of two). */
#define SL_BLOOM_BITS_PER_KEY 4
#define SL_DEFAULT_BLOOM_WORDS (SL_DEFAULT_KEYS * SL_BLOOM_BITS_PER_KEY / 64)

#endif
