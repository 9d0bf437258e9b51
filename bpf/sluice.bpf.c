// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sluice's packet programs: an XDP program for fast drops on ingress and a
 * TC program (clsact ingress or egress) with the same classifier that also
 * redirects.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#include <xdp/xdp_helpers.h>

#include "classify.h"
#include "nat.h"
#include "redirect.h"

/*
 * Lets libxdp's dispatcher run other XDP programs after ours when we pass a
 * packet, so sluice coexists with them.
 */
struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(sluice_xdp);

SEC("xdp")
int sluice_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct sl_pkt pkt = {};
	int hit;

	if (sl_parse(data, data_end, &pkt) != SL_PARSE_OK)
		return XDP_PASS;
	hit = sl_classify(&pkt, SL_SEARCH_DROP);
	/* Redirect and rewrite rules live on tc hooks only; the daemon never gives XDP one. */
	if (hit < 0)
		return XDP_PASS;
	sl_count(sl_hit_slot(hit), data_end - data);
	return XDP_DROP;
}

/* Headers we may need in the linear area: Ethernet, 2 VLAN tags, IPv6 with extensions, ports. */
#define SL_TC_PULL_LEN 256

SEC("tc")
int sluice_tc(struct __sk_buff *skb)
{
	struct sl_pkt pkt = {};
	struct sl_redirect *redir = NULL;
	struct sl_counter *c = NULL;
	void *data, *data_end;
	__u32 zero = 0, slot;
	int hit, ct, rc;

	/*
	 * Headers are usually in the linear area already; pulling them in
	 * costs a copy per packet (and for a GSO packet, of payload too), so
	 * only a parse that ran out of linear data pulls and tries again.
	 */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	if (sl_parse(data, data_end, &pkt) != SL_PARSE_OK) {
		/* TC_ACT_UNSPEC lets filters of other tools at later priorities run. */
		if (skb->len <= data_end - data || data_end - data >= SL_TC_PULL_LEN)
			return TC_ACT_UNSPEC;
		bpf_skb_pull_data(skb, skb->len < SL_TC_PULL_LEN ? skb->len : SL_TC_PULL_LEN);
		__builtin_memset(&pkt, 0, sizeof(pkt));
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		if (sl_parse(data, data_end, &pkt) != SL_PARSE_OK)
			return TC_ACT_UNSPEC;
	}
	/* Drop rules, then flows conntrack translates, then redirect and rewrite rules. */
	ct = sl_ct_active();
	hit = sl_classify(&pkt, ct ? SL_SEARCH_DROP : SL_SEARCH_ALL);
	if (hit >= 0 && sl_hit_action(hit) == SL_ACTION_DROP) {
		sl_count(sl_hit_slot(hit), skb->len);
		return TC_ACT_SHOT;
	}
	if (ct) {
		rc = sl_nat_established(skb, &pkt);
		if (rc == SL_NAT_ICMP_ERROR)
			rc = sl_nat_icmp_error(skb, &pkt);
		if (rc != SL_NAT_MISS)
			goto translated;
		hit = sl_classify(&pkt, SL_SEARCH_RANKED);
	}
	if (hit < 0)
		return TC_ACT_UNSPEC;
	slot = sl_hit_slot(hit);
	if (sl_hit_action(hit) == SL_ACTION_REWRITE) {
		rc = sl_nat_new(skb, &pkt, slot);
		goto translated;
	}
	if (sl_hit_action(hit) != SL_ACTION_REDIRECT)
		return TC_ACT_UNSPEC;
	redir = bpf_map_lookup_elem(&sl_redirects, &slot);
	c = sl_count(slot, skb->len);
	goto redirect;

translated:
	if (rc != SL_NAT_REDIRECT)
		return rc;
	{
		struct sl_scratch *s = bpf_map_lookup_elem(&sl_scratch, &zero);

		if (!s)
			return TC_ACT_SHOT;
		redir = &s->redirect;
		slot = s->slot;
		if (slot != SL_NO_SLOT)
			c = bpf_map_lookup_elem(&sl_counters, &slot);
	}
redirect:
	/* One call site: the redirect helpers' frame is paid once. */
	if (!redir)
		return TC_ACT_UNSPEC;
	return sl_redirect_to(skb, &pkt, redir, c);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
