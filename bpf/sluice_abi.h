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
#define SL_KEY_WORDS 5
struct sl_key {
	union {
		struct {
			__u8 shape;        /* index of the shape, so shapes never collide */
			__u8 proto;        /* IP protocol (next header after extensions) */
			__be16 ether_type; /* innermost ether type after VLAN tags */
			__be16 sport;
			__be16 dport;
			__be32 src[4];     /* IPv4 uses src[0] only */
			__be32 dst[4];
		};
		/* The same bytes as words: masking and hashing go a word at a time. */
		__u64 w[SL_KEY_WORDS];
	};
};

/*
 * The same key for shapes that match no IPv6 address (IPv4, L2, L4-only):
 * their address words beyond the first are always zero, so the rule hash
 * of those shapes hashes and compares 16 bytes instead of 40.
 */
struct sl_key4 {
	__u64 w0;    /* sl_key.w[0]: shape, proto, ether type, ports */
	__be32 src;  /* sl_key.src[0] */
	__be32 dst;  /* sl_key.dst[0] */
};

static inline __attribute__((always_inline)) struct sl_key4 sl_key4_of(const struct sl_key *k)
{
	struct sl_key4 k4 = { .w0 = k->w[0], .src = k->src[0], .dst = k->dst[0] };

	return k4;
}

/* The word of w[0] holding the shape byte, whatever the byte order. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SL_KEY_SHAPE_BITS(idx) ((__u64)(idx))
#else
#define SL_KEY_SHAPE_BITS(idx) ((__u64)(idx) << 56)
#endif

/*
 * Packet classes: which shapes a packet can possibly match depends only on
 * its family, whether its ports were read and its protocol, so user space
 * precomputes a bitmap of candidate shapes per class and a packet probes
 * only those.
 */
#define SL_PROTO_UNKNOWN 256 /* the transport header is out of reach */
#define SL_CLASS_PROTOS 257
#define SL_NCLASSES (3 * 2 * SL_CLASS_PROTOS)

static inline __attribute__((always_inline)) __u32 sl_class_index(__u8 family, __u8 has_ports,
								   __u32 proto)
{
	__u32 fam = family == SL_FAMILY_IPV4 ? 1 : family == SL_FAMILY_IPV6 ? 2 : 0;

	return (fam * 2 + (has_ports ? 1 : 0)) * SL_CLASS_PROTOS + proto;
}

/*
 * Prefilter in front of the classifier hash: one bit per hashed key, so a
 * shape that cannot match costs a few multiplies and a load instead of a
 * hash-map lookup. Shared by BPF and user space, which must hash
 * identically; the bit index is the hash's top bits. Words that are zero
 * (IPv4 addresses use only w[1] and w[3]) add nothing, so BPF can skip them.
 */
#define SL_BLOOM_LOG2 21
#define SL_BLOOM_WORDS (1u << (SL_BLOOM_LOG2 - 6))

static inline __attribute__((always_inline)) __u64 sl_bloom_hash_words(__u64 w0, __u64 w1,
									__u64 w2, __u64 w3,
									__u64 w4)
{
	return (w0 * 0x9E3779B97F4A7C15ull) ^ (w1 * 0xC2B2AE3D27D4EB4Full) ^
	       (w2 * 0x165667B19E3779F9ull) ^ (w3 * 0xD6E8FEB86659FD93ull) ^
	       (w4 * 0xFF51AFD7ED558CCDull);
}

static inline __attribute__((always_inline)) __u32 sl_bloom_bit(__u64 hash)
{
	return (__u32)(hash >> (64 - SL_BLOOM_LOG2));
}

/*
 * What the classifier reads on every packet, in one map value that user
 * space writes through mmap(): candidate shapes per class, each shape's
 * masks (in key form, shape byte zero) and the prefilter bits. A shape's
 * bits in class_shapes are set only once its masks and keys are in place.
 */
struct sl_fastpath {
	__u32 class_shapes[SL_NCLASSES];
	__u32 redirect_shapes; /* shapes of ranked (redirect, rewrite) rules; the others: drop */
	__u32 wide_shapes;     /* IPv6 shapes: their keys live in sl_rules, the others' in sl_rules4 */
	__u32 ct_active;       /* look packets up in conntrack: rewrite rules or replies arrive here */
	__u32 pad;
	struct sl_key shape_mask[SL_MAX_SHAPES];
	__u64 bloom[SL_BLOOM_WORDS];
};

/*
 * What a rule does when it matches. Drop rules are searched first and any
 * match drops; then translated flows are looked up in conntrack; only then
 * are redirect and rewrite rules ("ranked" rules) searched, and the one
 * with the lowest rank wins.
 */
#define SL_ACTION_DROP 1
#define SL_ACTION_REDIRECT 2
#define SL_ACTION_REWRITE 3

struct sl_rule_val {
	__u32 slot;   /* index into the counters (and redirect) maps */
	__u32 action; /* SL_ACTION_* */
	__u64 rank;   /* redirect: priority, then specificity, then age; lowest wins */
};

/* Redirect modes. */
#define SL_REDIR_EGRESS 1  /* bpf_redirect(ifindex, 0) */
#define SL_REDIR_INGRESS 2 /* bpf_redirect(ifindex, BPF_F_INGRESS) */
#define SL_REDIR_NEIGH 3   /* bpf_redirect_neigh(ifindex) */
#define SL_REDIR_PEER 4    /* bpf_redirect_peer(ifindex) */
#define SL_REDIR_ROUTE 5   /* bpf_fib_lookup, then redirect */

/* sl_redirect.flags */
#define SL_REDIR_SET_DMAC 1
#define SL_REDIR_SET_SMAC 2

struct sl_redirect {
	__u32 ifindex; /* the target; for route, 0 = wherever the route points */
	__u8 mode;     /* SL_REDIR_* */
	__u8 flags;
	__u8 dmac[6];
	__u8 smac[6];
	__u16 pad;
};

struct sl_counter {
	__u64 packets;
	__u64 bytes;
	__u64 fallbacks;    /* route: the lookup did not resolve; the stack got the packet */
	__u64 neigh_misses; /* route: no neighbour entry yet; the kernel resolves it */
	__u64 nat_failures; /* rewrite: no free port or conntrack entry; the packet was dropped */
};

/* sl_classify's result: the rule's slot and, in the top bits, its action. */
#define SL_HIT_ACTION_SHIFT 28
#define SL_HIT_SLOT_MASK ((1u << SL_HIT_ACTION_SHIFT) - 1)
#define SL_MAX_RULE_SLOTS (1u << 24)

/* Which rules sl_classify searches. */
#define SL_SEARCH_DROP 1
#define SL_SEARCH_RANKED 2
#define SL_SEARCH_ALL (SL_SEARCH_DROP | SL_SEARCH_RANKED)

/*
 * Rewrite rules: the translation of a new flow, per rule slot. Addresses
 * are written whole (IPv4 in the first word); a zero port keeps the
 * packet's. The source port is picked from [sport_lo, sport_hi] when the
 * rule gives a range, else kept unless two flows would collide after the
 * translation, when one from the conntrack configuration's range is used.
 */
#define SL_NAT_SRC 1
#define SL_NAT_DST 2
#define SL_NAT_SPORT 4 /* sport_lo..sport_hi */
#define SL_NAT_DPORT 8

struct sl_nat_rule {
	__be32 to_src[4];
	__be32 to_dst[4];
	__u16 sport_lo, sport_hi; /* host order */
	__be16 to_dport;
	__u8 flags;               /* SL_NAT_* */
	__u8 family;              /* SL_FAMILY_IPV4 or _IPV6: the packets it translates */
	__u64 rule_id;            /* the daemon's id, so a deleted rule's flows can be flushed */
};

/*
 * Conntrack: one entry per direction of a translated flow, in one LRU hash
 * shared by every program instance. The key is the packet's tuple as it
 * arrives; the zone (the hook's network namespace) keeps namespaces apart.
 * ICMP echo uses its identifier as the source port of requests and the
 * destination port of replies, so a reply's tuple is the request's reversed.
 */
struct sl_ct_key {
	__u32 zone;
	__u8 family;
	__u8 proto;
	__be16 sport;
	__be16 dport;
	__u16 pad;
	__be32 src[4];
	__be32 dst[4];
};

struct sl_ct_tuple {
	__be32 src[4];
	__be32 dst[4];
	__be16 sport;
	__be16 dport;
};

/*
 * The key of the other direction of the flow an entry belongs to: the
 * tuple the entry rewrites to, reversed. Shared by BPF and user space.
 */
static inline __attribute__((always_inline)) void sl_ct_twin_key(const struct sl_ct_key *k,
								  const struct sl_ct_tuple *t,
								  struct sl_ct_key *out)
{
	out->zone = k->zone;
	out->family = k->family;
	out->proto = k->proto;
	out->pad = 0;
	__builtin_memcpy(out->src, t->dst, sizeof(out->src));
	__builtin_memcpy(out->dst, t->src, sizeof(out->dst));
	out->sport = t->dport;
	out->dport = t->sport;
}

#define SL_CT_FORWARD 1
#define SL_CT_REPLY 2

/* Flow states; each has its own idle timeout. */
#define SL_CT_TCP_SYN 0
#define SL_CT_TCP_ESTABLISHED 1
#define SL_CT_TCP_CLOSING 2
#define SL_CT_UDP 3
#define SL_CT_ICMP 4
#define SL_CT_NSTATES 5

struct sl_ct_val {
	struct sl_ct_tuple rewrite;  /* what a packet with this key becomes */
	struct sl_redirect redirect; /* then: mode 0 = continue through the stack */
	__u64 rule_id;
	__u64 created_ns;   /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 last_seen_ns;
	__u64 packets;
	__u64 bytes;
	__u32 slot;         /* forward: the rule's slot in the instance that created it */
	__u8 dir;           /* SL_CT_FORWARD or SL_CT_REPLY */
	__u8 state;         /* SL_CT_*, kept equal in both directions */
	__u16 pad;
};

/* Later IP fragments carry no ports: the first one leaves the flow's key here. */
struct sl_frag_key {
	__u32 zone;
	__u8 family;
	__u8 proto;
	__u16 pad;
	__u32 id; /* IPv4 identification (network order, widened) or IPv6 fragment id */
	__be32 src[4];
	__be32 dst[4];
};

struct sl_ct_config {
	__u64 timeout_ns[SL_CT_NSTATES];
	__u16 port_lo, port_hi; /* host order: where colliding source ports move to */
	__u32 pad;
};

/* Defaults for map sizes; the loader may resize before load. */
#define SL_DEFAULT_RULE_SLOTS 131072
#define SL_DEFAULT_KEYS (4 * SL_DEFAULT_RULE_SLOTS)
#define SL_DEFAULT_CT_ENTRIES 65536 /* flows x 2 directions: the loader sizes it */
#define SL_DEFAULT_FRAG_ENTRIES 4096

#endif
