// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Baselines for the micro-benchmark: programs that drop without looking at
 * the packet, so the difference to sluice is the cost of parse + classify.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int bare_drop_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("tc")
int bare_drop_tc(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
