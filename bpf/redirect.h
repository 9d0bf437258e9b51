/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Redirect actions of the TC program: steer a classified packet to another
 * interface with bpf_redirect (egress or ingress), bpf_redirect_neigh,
 * bpf_redirect_peer, or wherever the kernel's FIB says (route).
 */
#ifndef SLUICE_REDIRECT_H
#define SLUICE_REDIRECT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "classify.h"
#include "csum.h"

#define SL_AF_INET 2
#define SL_AF_INET6 10
#define SL_LOOPBACK_IFINDEX 1 /* in every network namespace */

/* Offsets inside the IP headers, from the start of the L3 header. */
#define SL_IPV4_TOS_OFF 1
#define SL_IPV4_TTL_OFF 8
#define SL_IPV6_FLOW_OFF 0
#define SL_IPV6_HOPLIMIT_OFF 7

/* The rule's MACs where it sets them; otherwise the given defaults, if any. */
static __always_inline int sl_store_macs(struct __sk_buff *skb, const struct sl_redirect *r,
					 const __u8 *dmac, const __u8 *smac)
{
	/* Plain branches: a select between two pointers upsets the verifier. */
	if (r->flags & SL_REDIR_SET_DMAC) {
		if (bpf_skb_store_bytes(skb, 0, r->dmac, ETH_ALEN, 0))
			return -1;
	} else if (dmac) {
		if (bpf_skb_store_bytes(skb, 0, dmac, ETH_ALEN, 0))
			return -1;
	}
	if (r->flags & SL_REDIR_SET_SMAC) {
		if (bpf_skb_store_bytes(skb, ETH_ALEN, r->smac, ETH_ALEN, 0))
			return -1;
	} else if (smac) {
		if (bpf_skb_store_bytes(skb, ETH_ALEN, smac, ETH_ALEN, 0))
			return -1;
	}
	return 0;
}

/*
 * A routed packet crossed a router: one less hop. Returns -1 when the
 * packet must not be forwarded (hop limit exhausted): the stack then
 * answers with ICMP time exceeded if it forwards at all.
 */
static __always_inline int sl_dec_hop_limit(struct __sk_buff *skb, const struct sl_pkt *pkt)
{
	__u32 off = pkt->l3_off;
	__u8 ttl;

	if (pkt->family == SL_FAMILY_IPV4) {
		__be16 old_word, new_word;

		if (bpf_skb_load_bytes(skb, off + SL_IPV4_TTL_OFF, &old_word, 2))
			return -1;
		ttl = ((__u8 *)&old_word)[0];
		if (ttl <= 1)
			return -1;
		new_word = old_word;
		((__u8 *)&new_word)[0] = ttl - 1;
		if (bpf_l3_csum_replace(skb, off + SL_IPV4_CSUM_OFF, old_word, new_word, 2))
			return -1;
		return bpf_skb_store_bytes(skb, off + SL_IPV4_TTL_OFF, &new_word, 2, 0) ? -1 : 0;
	}
	if (bpf_skb_load_bytes(skb, off + SL_IPV6_HOPLIMIT_OFF, &ttl, 1) || ttl <= 1)
		return -1;
	ttl--;
	return bpf_skb_store_bytes(skb, off + SL_IPV6_HOPLIMIT_OFF, &ttl, 1, 0) ? -1 : 0;
}

static __always_inline int sl_route(struct __sk_buff *skb, const struct sl_pkt *pkt,
				    const struct sl_redirect *r, struct sl_counter *c)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	if (pkt->family == SL_FAMILY_IPV4) {
		__u8 tos = 0;

		bpf_skb_load_bytes(skb, pkt->l3_off + SL_IPV4_TOS_OFF, &tos, 1);
		fib.family = SL_AF_INET;
		fib.tos = tos;
		fib.ipv4_src = pkt->flow.src[0];
		fib.ipv4_dst = pkt->flow.dst[0];
	} else if (pkt->family == SL_FAMILY_IPV6) {
		__be32 flow = 0;

		bpf_skb_load_bytes(skb, pkt->l3_off + SL_IPV6_FLOW_OFF, &flow, 4);
		fib.family = SL_AF_INET6;
		fib.flowinfo = flow & bpf_htonl(0x0fffffff);
		__builtin_memcpy(fib.ipv6_src, pkt->flow.src, 16);
		__builtin_memcpy(fib.ipv6_dst, pkt->flow.dst, 16);
	} else {
		goto fallback;
	}
	fib.l4_protocol = pkt->l4_unknown ? 0 : pkt->flow.proto;
	if (pkt->has_ports) {
		fib.sport = pkt->flow.sport;
		fib.dport = pkt->flow.dport;
	}
	/*
	 * The FIB helper answers only for an interface with forwarding on. Ask
	 * for the hook's interface (its iif policy rules apply); when forwarding
	 * is off there, for the loopback device, so an operator can leave the
	 * kernel's forwarding off and route only what sluice's rules match.
	 */
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
		fib.ifindex = SL_LOOPBACK_IFINDEX;
		rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	}
	/* A target pins the way out: a route elsewhere is the stack's business. */
	if (r->ifindex && (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) &&
	    fib.ifindex != r->ifindex)
		goto fallback;
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (sl_dec_hop_limit(skb, pkt))
			goto fallback;
		if (sl_store_macs(skb, r, fib.dmac, fib.smac))
			goto fallback;
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = {};

		if (sl_dec_hop_limit(skb, pkt))
			goto fallback;
		if (c)
			c->neigh_misses++;
		/* The lookup left the next hop in the destination field. */
		if (fib.family == SL_AF_INET) {
			nh.nh_family = SL_AF_INET;
			nh.ipv4_nh = fib.ipv4_dst;
		} else {
			nh.nh_family = SL_AF_INET6;
			__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		}
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
fallback:
	if (c)
		c->fallbacks++;
	return TC_ACT_OK;
}

/* Sends the packet where r says; c (may be NULL) counts what went wrong. */
static __always_inline int sl_redirect_to(struct __sk_buff *skb, const struct sl_pkt *pkt,
					  const struct sl_redirect *r, struct sl_counter *c)
{
	if (r->mode == SL_REDIR_ROUTE)
		return sl_route(skb, pkt, r, c);
	if (sl_store_macs(skb, r, NULL, NULL)) {
		if (c)
			c->fallbacks++;
		return TC_ACT_OK;
	}
	switch (r->mode) {
	case SL_REDIR_EGRESS:
		return bpf_redirect(r->ifindex, 0);
	case SL_REDIR_INGRESS:
		return bpf_redirect(r->ifindex, BPF_F_INGRESS);
	case SL_REDIR_NEIGH:
		return bpf_redirect_neigh(r->ifindex, NULL, 0, 0);
	case SL_REDIR_PEER:
		return bpf_redirect_peer(r->ifindex, 0);
	}
	return TC_ACT_UNSPEC;
}

#endif
