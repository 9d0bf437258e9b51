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
	__u8 pad[2];
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
	__u32 shapes_hi; /* probe shapes [0, shapes_hi) */
	__u32 pad;
};

/* Defaults for map sizes; the loader may resize before load. */
#define SL_DEFAULT_RULE_SLOTS 131072
#define SL_DEFAULT_KEYS (4 * SL_DEFAULT_RULE_SLOTS)

#endif
