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
	int slot;

	if (sl_parse(data, data_end, &pkt) != SL_PARSE_OK)
		return XDP_PASS;
	slot = sl_classify(&pkt);
	/* Redirect rules live on tc hooks only; the daemon never gives XDP one. */
	if (slot < 0 || (slot & SL_HIT_REDIRECT))
		return XDP_PASS;
	sl_count((__u32)slot, data_end - data);
	return XDP_DROP;
}

/* Headers we may need in the linear area: Ethernet, 2 VLAN tags, IPv6 with extensions, ports. */
#define SL_TC_PULL_LEN 256

SEC("tc")
int sluice_tc(struct __sk_buff *skb)
{
	struct sl_pkt pkt = {};
	void *data, *data_end;
	int slot;

	if (skb->data_end - skb->data < SL_TC_PULL_LEN && skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < SL_TC_PULL_LEN ? skb->len : SL_TC_PULL_LEN);
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;

	/* TC_ACT_UNSPEC lets filters of other tools at later priorities run. */
	if (sl_parse(data, data_end, &pkt) != SL_PARSE_OK)
		return TC_ACT_UNSPEC;
	slot = sl_classify(&pkt);
	if (slot < 0)
		return TC_ACT_UNSPEC;
	if (slot & SL_HIT_REDIRECT)
		return sl_redirect(skb, &pkt, (__u32)slot & SL_HIT_SLOT_MASK);
	sl_count((__u32)slot, skb->len);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
