/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Conntrack of translated flows: tuples of packets, idle timeouts, TCP
 * state, and the fragment table that lets later fragments follow the first.
 */
#ifndef SLUICE_CONNTRACK_H
#define SLUICE_CONNTRACK_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "csum.h"
#include "maps.h"

#define SL_ICMP_ECHO_REPLY 0
#define SL_ICMP_DEST_UNREACH 3
#define SL_ICMP_ECHO 8
#define SL_ICMP_TIME_EXCEEDED 11
#define SL_ICMP_PARAMETERPROB 12
#define SL_ICMPV6_DEST_UNREACH 1
#define SL_ICMPV6_PARAMPROB 4
#define SL_ICMPV6_ECHO_REQUEST 128
#define SL_ICMPV6_ECHO_REPLY 129

#define SL_TCP_FLAGS_OFF 13
#define SL_TCP_FIN 0x01
#define SL_TCP_SYN 0x02
#define SL_TCP_RST 0x04
#define SL_TCP_ACK 0x10

/* last_seen is refreshed at most this often: the entry's cache line is shared. */
#define SL_CT_TOUCH_NS 250000000ull

enum sl_ct_kind {
	SL_CT_TRACKABLE,  /* TCP, UDP, ICMP echo: key filled */
	SL_CT_ICMP_ERROR, /* its quote names the flow */
	SL_CT_UNTRACKED,  /* anything else passes untranslated */
};

/* A packet's tuple as conntrack sees it. */
struct sl_ct_pkt {
	struct sl_ct_key key;
	__u8 echo;      /* 1: ICMP echo request, 2: echo reply */
	__u8 tcp_flags;
	__u16 pad;
};

static __always_inline int sl_icmp_is_error(__u8 family, __u8 type)
{
	if (family == SL_FAMILY_IPV4)
		return type == SL_ICMP_DEST_UNREACH || type == SL_ICMP_TIME_EXCEEDED ||
		       type == SL_ICMP_PARAMETERPROB;
	return type >= SL_ICMPV6_DEST_UNREACH && type <= SL_ICMPV6_PARAMPROB;
}

static __always_inline int sl_is_icmp(__u8 family, __u8 proto)
{
	return (family == SL_FAMILY_IPV4 && proto == IPPROTO_ICMP) ||
	       (family == SL_FAMILY_IPV6 && proto == SL_IPPROTO_ICMPV6);
}

/* The echo identifier goes where the reply's tuple is the request's reversed. */
static __always_inline int sl_echo_kind(__u8 family, __u8 type)
{
	if (type == (family == SL_FAMILY_IPV4 ? SL_ICMP_ECHO : SL_ICMPV6_ECHO_REQUEST))
		return 1;
	if (type == (family == SL_FAMILY_IPV4 ? SL_ICMP_ECHO_REPLY : SL_ICMPV6_ECHO_REPLY))
		return 2;
	return 0;
}

static __always_inline enum sl_ct_kind sl_ct_pkt_of(struct __sk_buff *skb,
						    const struct sl_pkt *pkt,
						    struct sl_ct_pkt *cp)
{
	struct sl_ct_key *k = &cp->key;
	__u8 icmp[6];

	if (pkt->family != SL_FAMILY_IPV4 && pkt->family != SL_FAMILY_IPV6)
		return SL_CT_UNTRACKED;
	if (pkt->l4_unknown || pkt->frag_later)
		return SL_CT_UNTRACKED;
	k->zone = sl_cfg_zone;
	k->family = pkt->family;
	k->proto = pkt->flow.proto;
	__builtin_memcpy(k->src, pkt->flow.src, 16);
	__builtin_memcpy(k->dst, pkt->flow.dst, 16);
	if (pkt->flow.proto == IPPROTO_TCP || pkt->flow.proto == IPPROTO_UDP) {
		if (!pkt->has_ports)
			return SL_CT_UNTRACKED;
		k->sport = pkt->flow.sport;
		k->dport = pkt->flow.dport;
		if (pkt->flow.proto == IPPROTO_TCP &&
		    bpf_skb_load_bytes(skb, pkt->l4_off + SL_TCP_FLAGS_OFF, &cp->tcp_flags, 1))
			return SL_CT_UNTRACKED;
		return SL_CT_TRACKABLE;
	}
	if (!sl_is_icmp(pkt->family, pkt->flow.proto))
		return SL_CT_UNTRACKED;
	if (bpf_skb_load_bytes(skb, pkt->l4_off, icmp, sizeof(icmp)))
		return SL_CT_UNTRACKED;
	if (sl_icmp_is_error(pkt->family, icmp[0]))
		return SL_CT_ICMP_ERROR;
	cp->echo = sl_echo_kind(pkt->family, icmp[0]);
	if (cp->echo == 1)
		k->sport = *(__be16 *)&icmp[SL_ICMP_ID_OFF];
	else if (cp->echo == 2)
		k->dport = *(__be16 *)&icmp[SL_ICMP_ID_OFF];
	else
		return SL_CT_UNTRACKED;
	return SL_CT_TRACKABLE;
}

static __always_inline __u64 sl_ct_timeout(__u8 state)
{
	__u32 zero = 0;
	struct sl_ct_config *cfg = bpf_map_lookup_elem(&sl_ct_cfg, &zero);

	if (!cfg || state >= SL_CT_NSTATES)
		return 0;
	return cfg->timeout_ns[state];
}

static __always_inline int sl_ct_expired(const struct sl_ct_val *v, __u64 now)
{
	return now - v->last_seen_ns > sl_ct_timeout(v->state);
}

static __always_inline __u8 sl_ct_initial_state(const struct sl_ct_pkt *cp)
{
	if (cp->key.proto == IPPROTO_TCP)
		return (cp->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN
			       ? SL_CT_TCP_SYN
			       : SL_CT_TCP_ESTABLISHED;
	return cp->key.proto == IPPROTO_UDP ? SL_CT_UDP : SL_CT_ICMP;
}

/*
 * A packet of an established entry: counts it, refreshes the timeout and
 * follows TCP (a reply establishes, FIN or RST closes, a SYN reopens a
 * closing flow). State changes go to both directions' entries.
 */
static __always_inline void sl_ct_touch(struct sl_ct_val *v, const struct sl_ct_pkt *cp,
					__u64 now, __u32 len)
{
	__u8 state = v->state;

	__sync_fetch_and_add(&v->packets, 1);
	__sync_fetch_and_add(&v->bytes, len);
	if (now - v->last_seen_ns > SL_CT_TOUCH_NS)
		v->last_seen_ns = now;
	if (cp->key.proto != IPPROTO_TCP)
		return;
	if (cp->tcp_flags & (SL_TCP_FIN | SL_TCP_RST))
		state = SL_CT_TCP_CLOSING;
	else if (state == SL_CT_TCP_SYN && v->dir == SL_CT_REPLY)
		state = SL_CT_TCP_ESTABLISHED;
	else if (state == SL_CT_TCP_CLOSING &&
		 (cp->tcp_flags & (SL_TCP_SYN | SL_TCP_ACK)) == SL_TCP_SYN)
		state = SL_CT_TCP_SYN;
	if (state != v->state) {
		struct sl_ct_key twin_key;
		struct sl_ct_val *twin;

		v->state = state;
		v->last_seen_ns = now;
		sl_ct_twin_key(&cp->key, &v->rewrite, &twin_key);
		twin = bpf_map_lookup_elem(&sl_conntrack, &twin_key);
		if (twin) {
			twin->state = state;
			twin->last_seen_ns = now;
		}
	}
}

/* The live entry of cp's tuple, counted and refreshed; NULL if none. */
static __always_inline struct sl_ct_val *sl_ct_find(const struct sl_ct_pkt *cp, __u32 len)
{
	struct sl_ct_val *v = bpf_map_lookup_elem(&sl_conntrack, &cp->key);
	__u64 now = bpf_ktime_get_ns();

	if (!v || sl_ct_expired(v, now))
		return NULL;
	sl_ct_touch(v, cp, now, len);
	return v;
}

static __always_inline void sl_frag_key_of(const struct sl_pkt *pkt, struct sl_frag_key *fk)
{
	fk->zone = sl_cfg_zone;
	fk->family = pkt->family;
	fk->proto = pkt->flow.proto;
	fk->pad = 0;
	fk->id = pkt->frag_id;
	__builtin_memcpy(fk->src, pkt->flow.src, 16);
	__builtin_memcpy(fk->dst, pkt->flow.dst, 16);
}

/* The first fragment of a translated datagram tells the others which flow they belong to. */
static __always_inline void sl_frag_record(const struct sl_pkt *pkt, const struct sl_ct_key *k)
{
	struct sl_frag_key fk = {};

	if (!pkt->is_fragment || pkt->frag_later)
		return;
	sl_frag_key_of(pkt, &fk);
	bpf_map_update_elem(&sl_frags, &fk, k, BPF_ANY);
}

#endif
