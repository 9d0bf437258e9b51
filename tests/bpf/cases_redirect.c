// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Redirect rules through BPF_PROG_TEST_RUN: the verdict, the bytes the
 * program wrote (MACs, the routed hop limit and the IPv4 checksum, checked
 * against a checksum computed here from scratch), which rule won, and the
 * counters. test_run does not move the packet; the integration test does.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "cases.h"
#include "rule_spec.h"

#define LOOPBACK 1

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 0xa1 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 0xb2 };
static const uint8_t mac_c[6] = { 0x02, 0, 0, 0, 0, 0xc3 };
static const uint8_t mac_s[6] = { 0x02, 0, 0, 0, 0, 0x55 };

struct run {
	int rc, retval;
	uint8_t out[FRAME_MAX + 512];
	uint32_t out_len;
};

static void run_frame(const struct tcase *t, const struct frame *f, uint32_t ifindex,
		      struct run *r)
{
	struct __sk_buff ctx = { .ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data, .data_size_in = (__u32)f->len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	if (ifindex) {
		opts.ctx_in = &ctx;
		opts.ctx_size_in = sizeof(ctx);
	}
	r->rc = bpf_prog_test_run_opts(sl_dp_hook_prog_fd(t->h), &opts);
	r->retval = (int)opts.retval;
	r->out_len = opts.data_size_out;
}

/* A redirect rule; mode, target and MACs from the arguments (NULL: leave the MAC). */
static int add_redirect(struct tcase *t, const char *spec, uint8_t mode, uint32_t ifindex,
			const uint8_t *dmac, const uint8_t *smac, uint16_t priority,
			uint32_t *slot)
{
	struct sl_dp_action act = { .kind = SL_ACTION_REDIRECT, .priority = priority };
	struct sl_err err = { 0 };
	struct sl_match m;
	int rc;

	act.redirect.mode = mode;
	act.redirect.ifindex = ifindex;
	if (dmac) {
		memcpy(act.redirect.dmac, dmac, 6);
		act.redirect.flags |= SL_REDIR_SET_DMAC;
	}
	if (smac) {
		memcpy(act.redirect.smac, smac, 6);
		act.redirect.flags |= SL_REDIR_SET_SMAC;
	}
	rc = rule_spec_parse(spec, &m, &err);
	if (!rc)
		rc = sl_dp_rule_add_action(t->h, &m, &act, slot, &err);
	if (rc && t->kind != SL_HOOK_XDP)
		CHECK(false, "add redirect '%s': %s", spec, err.msg);
	return rc;
}

/* The IPv4 header checksum verifies: one's complement sum of the header is 0xffff. */
static bool ipv4_csum_ok(const uint8_t *ip)
{
	uint32_t sum = 0;
	size_t len = (size_t)(ip[0] & 0xf) * 4;

	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

static void redirect_needs_tc(struct tcase *t)
{
	uint32_t slot;
	int rc = add_redirect(t, "dst 198.51.100.0/24", SL_REDIR_EGRESS, LOOPBACK, mac_a, NULL,
			      100, &slot);

	if (t->kind == SL_HOOK_XDP)
		CHECK(rc == -EINVAL, "a redirect rule on XDP: %d, want -EINVAL", rc);
	else
		CHECK(rc == 0, "a redirect rule on tc: %d", rc);
}

static void redirect_writes_macs(struct tcase *t)
{
	struct frame f;
	struct run r;
	struct sl_dp_counters c;
	uint32_t slot;

	if (t->kind == SL_HOOK_XDP)
		return;
	if (add_redirect(t, "dst 198.51.100.0/24 proto udp", SL_REDIR_EGRESS, LOOPBACK, mac_a,
			 mac_s, 100, &slot))
		return;
	if (!BUILD(&f, .family = 4, .dst = "198.51.100.7", .proto = 17, .sport = 5000,
		   .dport = 53, .payload_len = 40))
		return;
	run_frame(t, &f, 0, &r);
	CHECK(r.rc == 0 && r.retval == TC_ACT_REDIRECT, "matching frame: rc %d retval %d", r.rc,
	      r.retval);
	CHECK(r.out_len == f.len, "length %u, want %zu", r.out_len, f.len);
	CHECK(!memcmp(r.out, mac_a, 6), "destination MAC rewritten");
	CHECK(!memcmp(r.out + 6, mac_s, 6), "source MAC rewritten");
	CHECK(!memcmp(r.out + 12, f.data + 12, f.len - 12), "nothing past the MACs changed");
	sl_dp_rule_stats(t->h, slot, &c);
	CHECK(c.packets == 1 && c.bytes == f.len && !c.fallbacks,
	      "counters %llu packets %llu bytes %llu fallbacks", (unsigned long long)c.packets,
	      (unsigned long long)c.bytes, (unsigned long long)c.fallbacks);

	/* Another protocol: not this rule's, left to later filters untouched. */
	if (!BUILD(&f, .family = 4, .dst = "198.51.100.7", .proto = 6, .sport = 5000,
		   .dport = 53))
		return;
	run_frame(t, &f, 0, &r);
	CHECK(r.rc == 0 && r.retval == TC_ACT_UNSPEC, "non-matching frame: retval %d", r.retval);
	CHECK(!memcmp(r.out, f.data, f.len), "non-matching frame unchanged");
}

static void redirect_after_drop(struct tcase *t)
{
	struct frame f;
	struct run r;
	uint32_t redir, drop;

	if (t->kind == SL_HOOK_XDP)
		return;
	if (add_redirect(t, "dst 198.51.100.0/24", SL_REDIR_PEER, LOOPBACK, mac_a, NULL, 0,
			 &redir) ||
	    !RULE(t, "dst 198.51.100.7 proto udp", &drop))
		return;
	if (!BUILD(&f, .family = 4, .dst = "198.51.100.7", .proto = 17, .dport = 9))
		return;
	/* Priority 0, the best a redirect can have, still loses to a drop. */
	run_frame(t, &f, 0, &r);
	CHECK(r.retval == TC_ACT_SHOT, "drop and redirect match: retval %d, want drop",
	      r.retval);
	DEL(t, drop);
	run_frame(t, &f, 0, &r);
	CHECK(r.retval == TC_ACT_REDIRECT, "drop deleted: retval %d, want redirect", r.retval);
}

/* Which rule won, told by the destination MAC it wrote. */
static int winner(struct tcase *t, const struct frame *f)
{
	struct run r;

	run_frame(t, f, 0, &r);
	if (r.rc || r.retval != TC_ACT_REDIRECT)
		return -1;
	if (!memcmp(r.out, mac_a, 6))
		return 'a';
	if (!memcmp(r.out, mac_b, 6))
		return 'b';
	if (!memcmp(r.out, mac_c, 6))
		return 'c';
	return '?';
}

static void redirect_ranks(struct tcase *t)
{
	uint32_t wide, narrow, top, same_key;
	struct frame f;
	int w;

	if (t->kind == SL_HOOK_XDP)
		return;
	if (add_redirect(t, "dst 198.51.100.0/24", SL_REDIR_EGRESS, LOOPBACK, mac_a, NULL, 100,
			 &wide) ||
	    add_redirect(t, "dst 198.51.100.7 proto udp dport 9", SL_REDIR_EGRESS, LOOPBACK, mac_b,
			 NULL, 100, &narrow))
		return;
	if (!BUILD(&f, .family = 4, .dst = "198.51.100.7", .proto = 17, .dport = 9))
		return;
	w = winner(t, &f);
	CHECK(w == 'b', "the more specific rule wins: got '%c'", w);
	/* The same key as the /24 with a better priority: it takes the key over. */
	if (add_redirect(t, "dst 198.51.100.0/24", SL_REDIR_EGRESS, LOOPBACK, mac_c, NULL, 10,
			 &same_key))
		return;
	w = winner(t, &f);
	CHECK(w == 'c', "priority 10 beats specificity: got '%c'", w);
	DEL(t, same_key);
	w = winner(t, &f);
	CHECK(w == 'b', "priority rule gone, the specific rule again: got '%c'", w);
	DEL(t, narrow);
	w = winner(t, &f);
	CHECK(w == 'a', "only the /24 left: got '%c'", w);
	/* Equal rank: the older rule keeps winning. */
	if (add_redirect(t, "dst 198.51.100.0/24 proto udp", SL_REDIR_EGRESS, LOOPBACK, mac_b,
			 NULL, 100, &top) ||
	    add_redirect(t, "dst 198.51.100.0/24 proto udp", SL_REDIR_EGRESS, LOOPBACK, mac_c,
			 NULL, 100, &same_key))
		return;
	w = winner(t, &f);
	CHECK(w == 'b', "equal rank: the older rule wins: got '%c'", w);
	(void)wide;
}

/* A namespace of the test's own: lo, and a veth toward 10.77.0.0/24 with one known neighbour. */
static bool route_netns(void)
{
	static int ready = -1;

	if (ready >= 0)
		return ready;
	ready = 0;
	if (unshare(CLONE_NEWNET)) {
		CHECK(false, "unshare(CLONE_NEWNET): %s", strerror(errno));
		return false;
	}
	ready = system("ip link set lo up && ip link add rt0 address 02:00:00:00:00:77 type veth peer name rt1 &&"
		       " ip addr add 10.77.0.1/24 dev rt0 && ip link set rt0 up && ip link set rt1 up &&"
		       " ip neigh replace 10.77.0.2 lladdr 02:00:00:00:00:a1 dev rt0 nud permanent &&"
		       " sysctl -qw net.ipv4.conf.lo.forwarding=1") == 0;
	CHECK(ready, "set up the routing namespace");
	return ready;
}

static void route_hop(struct tcase *t)
{
	static const uint8_t rt0_mac[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	struct sl_dp_counters c;
	struct frame f;
	struct run r;
	uint32_t slot;

	if (t->kind == SL_HOOK_XDP || !route_netns())
		return;
	if (add_redirect(t, "dst 10.77.0.0/16", SL_REDIR_ROUTE, 0, NULL, NULL, 100, &slot))
		return;

	/* Resolved: MACs from the FIB, one hop less, checksum still right. */
	if (!BUILD(&f, .family = 4, .src = "10.66.0.5", .dst = "10.77.0.2", .proto = 17,
		   .dport = 9, .payload_len = 20))
		return;
	run_frame(t, &f, LOOPBACK, &r);
	CHECK(r.rc == 0 && r.retval == TC_ACT_REDIRECT, "routed: rc %d retval %d", r.rc, r.retval);
	CHECK(!memcmp(r.out, mac_a, 6), "destination MAC is the neighbour's");
	CHECK(!memcmp(r.out + 6, rt0_mac, 6), "source MAC is the egress device's");
	CHECK(r.out[f.l3_off + 8] == f.data[f.l3_off + 8] - 1, "TTL %u -> %u",
	      f.data[f.l3_off + 8], r.out[f.l3_off + 8]);
	CHECK(ipv4_csum_ok(r.out + f.l3_off), "IPv4 header checksum verifies after the TTL change");
	CHECK(!memcmp(r.out + f.l3_off + 12, f.data + f.l3_off + 12, f.len - f.l3_off - 12),
	      "addresses and payload unchanged");

	/* No neighbour yet: handed to redirect_neigh, counted, still one hop less. */
	if (!BUILD(&f, .family = 4, .src = "10.66.0.5", .dst = "10.77.0.3", .proto = 17,
		   .dport = 9))
		return;
	run_frame(t, &f, LOOPBACK, &r);
	CHECK(r.retval == TC_ACT_REDIRECT, "unresolved neighbour: retval %d", r.retval);
	CHECK(ipv4_csum_ok(r.out + f.l3_off) && r.out[f.l3_off + 8] == f.data[f.l3_off + 8] - 1,
	      "unresolved neighbour: TTL and checksum");

	/* TTL 1 must not be forwarded: the stack gets it (and would answer time exceeded). */
	f.data[f.l3_off + 8] = 1;
	f.data[f.l3_off + 10] = f.data[f.l3_off + 11] = 0;
	{
		uint32_t sum = 0;

		for (int i = 0; i < 20; i += 2)
			sum += (uint32_t)(f.data[f.l3_off + i] << 8 | f.data[f.l3_off + i + 1]);
		while (sum >> 16)
			sum = (sum & 0xffff) + (sum >> 16);
		f.data[f.l3_off + 10] = (uint8_t)(~sum >> 8);
		f.data[f.l3_off + 11] = (uint8_t)~sum;
	}
	run_frame(t, &f, LOOPBACK, &r);
	CHECK(r.retval == TC_ACT_OK, "TTL 1: retval %d, want the stack", r.retval);
	CHECK(!memcmp(r.out, f.data, f.len), "TTL 1: frame unchanged");

	/* No route (only 10.77.0.0/24 is connected): the stack's business. */
	if (!BUILD(&f, .family = 4, .src = "10.66.0.5", .dst = "10.77.5.5", .proto = 17,
		   .dport = 9))
		return;
	run_frame(t, &f, LOOPBACK, &r);
	CHECK(r.retval == TC_ACT_OK, "no route: retval %d, want the stack", r.retval);

	sl_dp_rule_stats(t->h, slot, &c);
	CHECK(c.packets == 4 && c.neigh_misses == 1 && c.fallbacks == 2,
	      "counters: %llu packets, %llu neighbour misses, %llu fallbacks",
	      (unsigned long long)c.packets, (unsigned long long)c.neigh_misses,
	      (unsigned long long)c.fallbacks);
}

const struct case_def cases_redirect[] = {
	{ "redirect-needs-tc", redirect_needs_tc },
	{ "redirect-writes-macs", redirect_writes_macs },
	{ "redirect-after-drop", redirect_after_drop },
	{ "redirect-ranks", redirect_ranks },
	{ "redirect-route-hop", route_hop },
	{ NULL, NULL },
};
