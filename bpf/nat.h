/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Stateful address and port translation in the TC program. A rewrite rule
 * creates a flow's two conntrack entries (forward, and reply keyed by the
 * translated tuple reversed) on its first packet; every later packet of
 * either direction, the ICMP errors about the flow and the later fragments
 * of its datagrams are translated from conntrack alone.
 */
#ifndef SLUICE_NAT_H
#define SLUICE_NAT_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "classify.h"
#include "conntrack.h"

/* sl_nat_established: not a packet of a translated flow; the rules decide. */
#define SL_NAT_MISS 1000
/* Translated; now redirect as sl_scratch.redirect says (see sl_nat_then). */
#define SL_NAT_REDIRECT 1001
/* An ICMP error: the caller hands it to sl_nat_icmp_error (stack frames add up). */
#define SL_NAT_ICMP_ERROR 1002

/* Tries at a free source port when the translated tuple is taken. */
#define SL_NAT_PORT_TRIES 16

#define SL_ICMP_QUOTE_OFF 8 /* the quoted packet follows the 8-byte ICMP header */

/* clang emits a call for __builtin_memcmp in BPF: compare words. */
static __always_inline int sl_addr_eq(const __be32 *a, const __be32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

static __always_inline void sl_tuple_to_flow(struct sl_pkt *pkt, const struct sl_ct_tuple *t)
{
	__builtin_memcpy(pkt->flow.src, t->src, 16);
	__builtin_memcpy(pkt->flow.dst, t->dst, 16);
}

/* Rewrites the packet whose tuple is cp to t; pkt follows. */
static __always_inline int sl_nat_rewrite(struct __sk_buff *skb, struct sl_pkt *pkt,
					  const struct sl_ct_pkt *cp, const struct sl_ct_tuple *t)
{
	struct sl_l4_csum c;

	sl_l4_csum_of(pkt, &c);
	if (sl_store_addr(skb, pkt, &c, 1, pkt->flow.src, t->src) ||
	    sl_store_addr(skb, pkt, &c, 0, pkt->flow.dst, t->dst))
		return -1;
	if (pkt->has_ports) {
		if (sl_store_l4_word(skb, &c, pkt->l4_off, pkt->flow.sport, t->sport) ||
		    sl_store_l4_word(skb, &c, pkt->l4_off + 2, pkt->flow.dport, t->dport))
			return -1;
		pkt->flow.sport = t->sport;
		pkt->flow.dport = t->dport;
	} else if (cp->echo == 1) {
		if (sl_store_l4_word(skb, &c, pkt->l4_off + SL_ICMP_ID_OFF, cp->key.sport, t->sport))
			return -1;
	} else if (cp->echo == 2) {
		if (sl_store_l4_word(skb, &c, pkt->l4_off + SL_ICMP_ID_OFF, cp->key.dport, t->dport))
			return -1;
	}
	sl_tuple_to_flow(pkt, t);
	return 0;
}

/*
 * After a translation: continue through the stack, or leave the redirect to
 * the caller, which keeps the FIB lookup's large frame off the NAT
 * functions' stacks.
 */
static __always_inline int sl_nat_then(const struct sl_redirect *r, __u32 slot)
{
	__u32 zero = 0;
	struct sl_scratch *s;

	if (!r->mode)
		return TC_ACT_OK;
	s = bpf_map_lookup_elem(&sl_scratch, &zero);
	if (!s)
		return TC_ACT_SHOT;
	s->redirect = *r;
	s->slot = slot;
	return SL_NAT_REDIRECT;
}

/* A packet of an entry: translate, then continue or redirect as the entry says. */
static __always_inline int sl_nat_apply(struct __sk_buff *skb, struct sl_pkt *pkt,
					const struct sl_ct_pkt *cp, const struct sl_ct_val *v)
{
	struct sl_counter *c = NULL;

	/* Forward entries are met on the hook whose rule made them. */
	if (v->dir == SL_CT_FORWARD)
		c = sl_count(v->slot, skb->len);
	sl_frag_record(pkt, &cp->key);
	if (sl_nat_rewrite(skb, pkt, cp, &v->rewrite)) {
		if (c)
			c->nat_failures++;
		return TC_ACT_SHOT; /* never let a half-translated packet out */
	}
	return sl_nat_then(&v->redirect, v->dir == SL_CT_FORWARD ? v->slot : SL_NO_SLOT);
}

/* A fragment after the first: the address part of its flow's translation. */
static __always_inline int sl_nat_fragment(struct __sk_buff *skb, struct sl_pkt *pkt)
{
	struct sl_frag_key fk = {};
	struct sl_ct_pkt cp = {};
	struct sl_ct_key *k;
	struct sl_ct_val *v;

	sl_frag_key_of(pkt, &fk);
	k = bpf_map_lookup_elem(&sl_frags, &fk);
	if (!k)
		return SL_NAT_MISS;
	cp.key = *k;
	v = sl_ct_find(&cp, skb->len);
	if (!v)
		return SL_NAT_MISS;
	return sl_nat_apply(skb, pkt, &cp, v);
}

/* Where the quoted packet's transport checksum is, 0 if the quote stops before it. */
static __always_inline __u32 sl_quote_csum_off(struct __sk_buff *skb, __u8 proto, __u32 l4)
{
	__u32 off;

	if (proto == IPPROTO_TCP)
		off = l4 + SL_TCP_CSUM_OFF;
	else if (proto == IPPROTO_UDP)
		off = l4 + SL_UDP_CSUM_OFF;
	else
		off = l4 + SL_ICMP_CSUM_OFF;
	return off + 2 <= skb->len ? off : 0;
}

/*
 * An ICMP error about a translated flow (a global function: its own stack
 * frame, verified once). Its quote is a packet of the
 * opposite direction as it was when it left, so the quote's tuple reversed
 * is the key of this direction's entry; the quote gets the entry's
 * translation reversed, the outer header the entry's translation where its
 * addresses are the flow's (a router on the way keeps its own address).
 */
__attribute__((noinline)) int sl_nat_icmp_error(struct __sk_buff *skb, struct sl_pkt *pkt)
{
	__u32 icmp_csum, q3, q4, qcsum, alen, saddr_off, daddr_off;
	__be32 qsrc[4] = {}, qdst[4] = {}, nsrc[4] = {}, ndst[4] = {};
	__be16 qport[2] = {}, nport[2] = {};
	struct sl_ct_pkt cp = {};
	struct sl_l4_csum c;
	struct sl_ct_val *v;
	__u16 qip_csum = 0;
	__u64 diff;
	__u8 qproto, echo = 0;
	int words;

	if (!skb || !pkt)
		return SL_NAT_MISS;
	icmp_csum = pkt->l4_off + SL_ICMP_CSUM_OFF;
	q3 = pkt->l4_off + SL_ICMP_QUOTE_OFF;
	if (pkt->family == SL_FAMILY_IPV4) {
		struct iphdr ih;

		if (bpf_skb_load_bytes(skb, q3, &ih, sizeof(ih)) || ih.ihl < 5 ||
		    (ih.frag_off & bpf_htons(0x1fff)))
			return SL_NAT_MISS;
		qproto = ih.protocol;
		qsrc[0] = ih.saddr;
		qdst[0] = ih.daddr;
		qip_csum = ih.check;
		q4 = q3 + ih.ihl * 4;
		alen = 4;
		words = 2;
		saddr_off = SL_IPV4_SADDR_OFF;
		daddr_off = SL_IPV4_DADDR_OFF;
	} else {
		struct ipv6hdr ih;

		/* A quote with extension headers is not followed: the flow's packets carry none. */
		if (bpf_skb_load_bytes(skb, q3, &ih, sizeof(ih)))
			return SL_NAT_MISS;
		qproto = ih.nexthdr;
		__builtin_memcpy(qsrc, &ih.saddr, 16);
		__builtin_memcpy(qdst, &ih.daddr, 16);
		q4 = q3 + sizeof(ih);
		alen = 16;
		words = 8;
		saddr_off = SL_IPV6_SADDR_OFF;
		daddr_off = SL_IPV6_DADDR_OFF;
	}
	cp.key.zone = sl_cfg_zone;
	cp.key.family = pkt->family;
	cp.key.proto = qproto;
	__builtin_memcpy(cp.key.src, qdst, 16);
	__builtin_memcpy(cp.key.dst, qsrc, 16);
	if (qproto == IPPROTO_TCP || qproto == IPPROTO_UDP) {
		if (bpf_skb_load_bytes(skb, q4, qport, sizeof(qport)))
			return SL_NAT_MISS;
		cp.key.sport = qport[1];
		cp.key.dport = qport[0];
	} else if (sl_is_icmp(pkt->family, qproto)) {
		__u8 qicmp[6];

		if (bpf_skb_load_bytes(skb, q4, qicmp, sizeof(qicmp)))
			return SL_NAT_MISS;
		echo = sl_echo_kind(pkt->family, qicmp[0]);
		/* The identifier sits where the reversed tuple puts it. */
		if (echo == 1)
			cp.key.dport = *(__be16 *)&qicmp[SL_ICMP_ID_OFF];
		else if (echo == 2)
			cp.key.sport = *(__be16 *)&qicmp[SL_ICMP_ID_OFF];
		else
			return SL_NAT_MISS;
	} else {
		return SL_NAT_MISS;
	}
	v = sl_ct_find(&cp, skb->len);
	if (!v)
		return SL_NAT_MISS;

	/* The quote becomes the entry's translation reversed. */
	__builtin_memcpy(nsrc, v->rewrite.dst, 16);
	__builtin_memcpy(ndst, v->rewrite.src, 16);
	nport[0] = v->rewrite.dport;
	nport[1] = v->rewrite.sport;
	diff = 0;
	if (qproto != IPPROTO_ICMP) /* the pseudo-header: TCP, UDP, ICMPv6 */
		diff = sl_csum_diff_addr(qsrc, nsrc, words) + sl_csum_diff_addr(qdst, ndst, words);
	qcsum = sl_quote_csum_off(skb, qproto, q4);
	if (echo) {
		/* A quoted request's identifier is its reversed tuple's dport, a reply's its sport. */
		__be16 old_id = echo == 1 ? cp.key.dport : cp.key.sport;
		__be16 new_id = echo == 1 ? v->rewrite.dport : v->rewrite.sport;

		diff += sl_csum_diff16(old_id, new_id);
		if (sl_quote_store(skb, icmp_csum, q4 + SL_ICMP_ID_OFF, &old_id, &new_id, 2))
			goto fail;
	} else {
		diff += sl_csum_diff16(qport[0], nport[0]) + sl_csum_diff16(qport[1], nport[1]);
		if (sl_quote_store(skb, icmp_csum, q4, &qport[0], &nport[0], 2) ||
		    sl_quote_store(skb, icmp_csum, q4 + 2, &qport[1], &nport[1], 2))
			goto fail;
	}
	if (qcsum) {
		__u16 old_csum, new_csum;

		if (bpf_skb_load_bytes(skb, qcsum, &old_csum, 2))
			goto fail;
		/* A UDP datagram sent without checksum keeps none. */
		if (!(qproto == IPPROTO_UDP && !old_csum)) {
			new_csum = sl_csum_apply(old_csum, diff);
			if (qproto == IPPROTO_UDP && !new_csum)
				new_csum = 0xffff;
			if (sl_quote_store(skb, icmp_csum, qcsum, &old_csum, &new_csum, 2))
				goto fail;
		}
	}
	if (sl_quote_store(skb, icmp_csum, q3 + saddr_off, qsrc, nsrc, alen) ||
	    sl_quote_store(skb, icmp_csum, q3 + daddr_off, qdst, ndst, alen))
		goto fail;
	if (pkt->family == SL_FAMILY_IPV4) {
		__u16 new_ip_csum = sl_csum_apply(qip_csum, sl_csum_diff_addr(qsrc, nsrc, 2) +
								    sl_csum_diff_addr(qdst, ndst, 2));

		if (sl_quote_store(skb, icmp_csum, q3 + SL_IPV4_CSUM_OFF, &qip_csum, &new_ip_csum, 2))
			goto fail;
	}

	/* The outer header: toward the quote's sender, from its receiver. */
	sl_l4_csum_of(pkt, &c);
	__builtin_memcpy(nsrc, pkt->flow.src, 16);
	__builtin_memcpy(ndst, pkt->flow.dst, 16);
	if (sl_addr_eq(pkt->flow.dst, qsrc))
		__builtin_memcpy(ndst, v->rewrite.dst, 16);
	if (sl_addr_eq(pkt->flow.src, qdst))
		__builtin_memcpy(nsrc, v->rewrite.src, 16);
	if (sl_store_addr(skb, pkt, &c, 1, pkt->flow.src, nsrc) ||
	    sl_store_addr(skb, pkt, &c, 0, pkt->flow.dst, ndst))
		goto fail;
	__builtin_memcpy(pkt->flow.src, nsrc, 16);
	__builtin_memcpy(pkt->flow.dst, ndst, 16);
	return sl_nat_then(&v->redirect, SL_NO_SLOT);
fail:
	return TC_ACT_SHOT;
}

/*
 * Packets of translated flows, both directions: returns the verdict,
 * SL_NAT_REDIRECT, SL_NAT_ICMP_ERROR, or SL_NAT_MISS when conntrack knows
 * nothing of the packet.
 */
__attribute__((noinline)) int sl_nat_established(struct __sk_buff *skb, struct sl_pkt *pkt)
{
	struct sl_ct_pkt cp = {};
	enum sl_ct_kind kind;
	struct sl_ct_val *v;

	if (!skb || !pkt)
		return SL_NAT_MISS;
	if (pkt->frag_later)
		return sl_nat_fragment(skb, pkt);
	kind = sl_ct_pkt_of(skb, pkt, &cp);
	if (kind == SL_CT_ICMP_ERROR)
		return SL_NAT_ICMP_ERROR;
	if (kind != SL_CT_TRACKABLE)
		return SL_NAT_MISS;
	v = sl_ct_find(&cp, skb->len);
	if (!v)
		return SL_NAT_MISS;
	return sl_nat_apply(skb, pkt, &cp, v);
}

static __always_inline __be16 sl_nat_pick_port(const struct sl_nat_rule *r)
{
	__u32 zero = 0, lo, hi;
	struct sl_ct_config *cfg;

	if (r->flags & SL_NAT_SPORT) {
		lo = r->sport_lo;
		hi = r->sport_hi;
	} else {
		cfg = bpf_map_lookup_elem(&sl_ct_cfg, &zero);
		lo = cfg ? cfg->port_lo : 32768;
		hi = cfg ? cfg->port_hi : 60999;
	}
	if (hi < lo)
		hi = lo;
	return bpf_htons((__u16)(lo + bpf_get_prandom_u32() % (hi - lo + 1)));
}

static __always_inline int sl_tuple_eq(const struct sl_ct_tuple *a, const struct sl_ct_tuple *b)
{
	return sl_addr_eq(a->src, b->src) && sl_addr_eq(a->dst, b->dst) && a->sport == b->sport &&
	       a->dport == b->dport;
}

/*
 * The first packet of a flow matching rewrite rule `slot`: both conntrack
 * entries, then the translation. The reply entry goes in first and only
 * where its key is free, so two flows never share a translated tuple: a
 * taken one moves the source port.
 */
__attribute__((noinline)) int sl_nat_new(struct __sk_buff *skb, struct sl_pkt *pkt, __u32 slot)
{
	struct sl_nat_rule *rule = bpf_map_lookup_elem(&sl_nat_rules, &slot);
	struct sl_redirect *redir = bpf_map_lookup_elem(&sl_redirects, &slot);
	struct sl_counter *c = sl_count(slot, skb ? skb->len : 0);
	struct sl_ct_pkt cp = {};
	struct sl_ct_tuple t = {};
	struct sl_ct_key rkey = {};
	__u32 zero = 0;
	struct sl_scratch *scratch = bpf_map_lookup_elem(&sl_scratch, &zero);
	struct sl_ct_val *vp = scratch ? &scratch->entry : NULL;
	int placed = 0, i;
	__u64 now;

	if (!skb || !pkt || !rule || !redir || !vp || rule->family != pkt->family)
		return TC_ACT_UNSPEC;
	/* The entry is built in per-CPU scratch: two of them would not fit the stack. */
	__builtin_memset(vp, 0, sizeof(*vp));
	/* Only a flow's first direction starts it: echo replies and errors do not. */
	if (sl_ct_pkt_of(skb, pkt, &cp) != SL_CT_TRACKABLE || cp.echo == 2)
		return TC_ACT_UNSPEC;
	now = bpf_ktime_get_ns();

	__builtin_memcpy(t.src, (rule->flags & SL_NAT_SRC) ? rule->to_src : cp.key.src, 16);
	__builtin_memcpy(t.dst, (rule->flags & SL_NAT_DST) ? rule->to_dst : cp.key.dst, 16);
	t.sport = cp.key.sport;
	t.dport = (rule->flags & SL_NAT_DPORT) && !cp.echo ? rule->to_dport : cp.key.dport;
	if ((rule->flags & SL_NAT_SPORT) &&
	    (bpf_ntohs(t.sport) < rule->sport_lo || bpf_ntohs(t.sport) > rule->sport_hi))
		t.sport = sl_nat_pick_port(rule);

	/* The reply entry: restores the original tuple, and goes back the way it came. */
	__builtin_memcpy(vp->rewrite.src, cp.key.dst, 16);
	__builtin_memcpy(vp->rewrite.dst, cp.key.src, 16);
	vp->rewrite.sport = cp.key.dport;
	vp->rewrite.dport = cp.key.sport;
	vp->rule_id = rule->rule_id;
	vp->created_ns = now;
	vp->last_seen_ns = now;
	vp->slot = slot;
	vp->dir = SL_CT_REPLY;
	vp->state = sl_ct_initial_state(&cp);
	if (redir->mode && sl_cfg_ingress) {
		__u8 macs[2 * ETH_ALEN];

		if (!bpf_skb_load_bytes(skb, 0, macs, sizeof(macs))) {
			vp->redirect.ifindex = skb->ifindex;
			vp->redirect.mode = SL_REDIR_EGRESS;
			vp->redirect.flags = SL_REDIR_SET_DMAC | SL_REDIR_SET_SMAC;
			__builtin_memcpy(vp->redirect.dmac, macs + ETH_ALEN, ETH_ALEN);
			__builtin_memcpy(vp->redirect.smac, macs, ETH_ALEN);
		}
	}
	for (i = 0; i < SL_NAT_PORT_TRIES; i++) {
		struct sl_ct_val *old;

		sl_ct_twin_key(&cp.key, &t, &rkey);
		if (!bpf_map_update_elem(&sl_conntrack, &rkey, vp, BPF_NOEXIST)) {
			placed = 1;
			break;
		}
		/* Taken by this very flow (its forward entry aged out first) or by a dead one. */
		old = bpf_map_lookup_elem(&sl_conntrack, &rkey);
		if (old && (sl_tuple_eq(&old->rewrite, &vp->rewrite) || sl_ct_expired(old, now)) &&
		    !bpf_map_update_elem(&sl_conntrack, &rkey, vp, BPF_ANY)) {
			placed = 1;
			break;
		}
		t.sport = sl_nat_pick_port(rule);
	}
	if (!placed)
		goto fail;

	vp->rewrite = t;
	vp->redirect = *redir;
	vp->dir = SL_CT_FORWARD;
	vp->packets = 1; /* this very packet */
	vp->bytes = skb->len;
	if (bpf_map_update_elem(&sl_conntrack, &cp.key, vp, BPF_ANY)) {
		bpf_map_delete_elem(&sl_conntrack, &rkey);
		goto fail;
	}
	/* Not sl_nat_apply: the rule counted this packet already, and the stack has no room. */
	sl_frag_record(pkt, &cp.key);
	if (sl_nat_rewrite(skb, pkt, &cp, &t))
		goto fail;
	return sl_nat_then(redir, slot);
fail:
	if (c)
		c->nat_failures++;
	return TC_ACT_SHOT;
}

#endif
