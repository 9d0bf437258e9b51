// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The rule set as a whole: overlapping rules, per-rule counters, and the
 * shape limit, where a refused rule must leave everything else as it was.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cases.h"

static void counters_of(struct tcase *t, uint32_t slot, uint64_t *packets, uint64_t *bytes,
			const char *file, int line)
{
	int rc = sl_dp_rule_counters(t->h, slot, packets, bytes);

	check_report(rc == 0, file, line, "counters read", NULL, "read counters of slot %u: %s",
		     slot, rc ? strerror(-rc) : "ok");
}

#define COUNTERS(t, slot, p, b) counters_of((t), (slot), (p), (b), __FILE__, __LINE__)

static void overlap_different_shapes(struct tcase *t)
{
	uint32_t a, b;
	uint64_t pa, ba, pb, bb;

	RULE(t, "src 10.0.0.0/8", &a);
	RULE(t, "src 10.1.1.1 proto tcp dport 80", &b);
	EXPECT_DROP(t, .family = 4, .src = "10.1.1.1", .proto = IPPROTO_TCP, .dport = 80);
	/* Matched by both, counted on exactly one (protocol.md, matching semantics). */
	COUNTERS(t, a, &pa, &ba);
	COUNTERS(t, b, &pb, &bb);
	CHECK(pa + pb == 1, "packet counted once across both rules: %llu + %llu",
	      (unsigned long long)pa, (unsigned long long)pb);
	check_note("counted on the %s rule",
		   pa ? "first-added, less specific" : "second-added, more specific");

	DEL(t, a);
	EXPECT_DROP(t, .family = 4, .src = "10.1.1.1", .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 4, .src = "10.1.1.1", .proto = IPPROTO_TCP, .dport = 81);
	RULE(t, "src 10.0.0.0/8", &a);
	DEL(t, b);
	EXPECT_DROP(t, .family = 4, .src = "10.1.1.1", .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 4, .src = "11.1.1.1", .proto = IPPROTO_TCP, .dport = 80);
	DEL(t, a);
	EXPECT_PASS(t, .family = 4, .src = "10.1.1.1", .proto = IPPROTO_TCP, .dport = 80);
	CHECK(sl_dp_hook_rule_count(t->h) == 0, "no rules left: %u", sl_dp_hook_rule_count(t->h));
	CHECK(sl_dp_hook_shape_count(t->h) == 0, "no shapes left: %u",
	      sl_dp_hook_shape_count(t->h));
}

/* Same shape and the same key: one map entry, two owners. */
static void overlap_identical(struct tcase *t)
{
	uint32_t a, b;
	uint64_t p, by;

	RULE(t, "proto tcp dport 80", &a);
	RULE(t, "proto tcp dport 80", &b);
	CHECK(a != b, "duplicate rules get their own slots (%u, %u)", a, b);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	DEL(t, a);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
	/* The survivor now owns the entry, so it is the one counting. */
	COUNTERS(t, b, &p, &by);
	CHECK(p == 2, "surviving duplicate counted the packets after the delete: %llu",
	      (unsigned long long)p);
	DEL(t, b);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
}

/* Port ranges that split into some identical blocks (1024-1535 is in both). */
static void overlap_port_blocks(struct tcase *t)
{
	uint32_t wide, narrow;

	RULE(t, "proto tcp dport 1000-2000", &wide);
	RULE(t, "proto tcp dport 1024-1535", &narrow);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1000);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1024);
	DEL(t, wide);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1000);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1023);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1024);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1535);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1536);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 2000);
	RULE(t, "proto tcp dport 1000-2000", &wide);
	DEL(t, narrow);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1024);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1535);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 2000);
	DEL(t, wide);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1024);
}

/*
 * Counters add up exactly what the program saw. XDP counts data_end - data,
 * TC counts skb->len; with test_run both are the whole frame as sent.
 */
static void counters_exact(struct tcase *t)
{
	static const uint16_t payloads[] = { 0, 18, 200, 1000, 1400 };
	static struct frame f;
	uint32_t tcp80, other;
	uint64_t packets, bytes, want_bytes = 0;

	RULE(t, "proto tcp dport 80", &tcp80);
	RULE(t, "src 203.0.113.0/24", &other);
	COUNTERS(t, tcp80, &packets, &bytes);
	CHECK(packets == 0 && bytes == 0, "fresh rule counters are zero: %llu packets %llu bytes",
	      (unsigned long long)packets, (unsigned long long)bytes);

	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		if (!BUILD(&f, .family = i % 2 ? 6 : 4, .tags = i == 2 ? FRAME_QINQ : FRAME_UNTAGGED,
			   .proto = IPPROTO_TCP, .dport = 80, .payload_len = payloads[i]))
			continue;
		EXPECT_FRAME(t, &f, V_DROP, "counted TCP/80 frame");
		want_bytes += f.len;
	}
	/* Frames that pass count nowhere. */
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 81, .payload_len = 100);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 80, .payload_len = 100);

	COUNTERS(t, tcp80, &packets, &bytes);
	CHECK(packets == 5, "packets on the matched slot: want 5, got %llu",
	      (unsigned long long)packets);
	CHECK(bytes == want_bytes, "bytes on the matched slot: want %llu (sum of frame lengths), got %llu",
	      (unsigned long long)want_bytes, (unsigned long long)bytes);
	COUNTERS(t, other, &packets, &bytes);
	CHECK(packets == 0 && bytes == 0, "other rule untouched: %llu packets %llu bytes",
	      (unsigned long long)packets, (unsigned long long)bytes);

	EXPECT_DROP(t, .family = 4, .src = "203.0.113.9", .proto = IPPROTO_UDP, .payload_len = 3);
	COUNTERS(t, other, &packets, &bytes);
	CHECK(packets == 1 && bytes == 14 + 20 + 8 + 3,
	      "second rule counts its own frame: %llu packets %llu bytes (want 1, 45)",
	      (unsigned long long)packets, (unsigned long long)bytes);
}

static void counters_readd(struct tcase *t)
{
	uint32_t slot, again;
	uint64_t packets, bytes;
	int rc;

	RULE(t, "proto udp dport 53", &slot);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .dport = 53);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_UDP, .dport = 53);
	COUNTERS(t, slot, &packets, &bytes);
	CHECK(packets == 2, "two packets before the delete: %llu", (unsigned long long)packets);

	DEL(t, slot);
	rc = sl_dp_rule_counters(t->h, slot, &packets, &bytes);
	CHECK(rc == -ENOENT, "counters of a deleted slot: want ENOENT, got %d", rc);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 53);

	RULE(t, "proto udp dport 53", &again);
	COUNTERS(t, again, &packets, &bytes);
	CHECK(packets == 0 && bytes == 0,
	      "re-added rule (slot %u, was %u) starts at zero: %llu packets %llu bytes", again, slot,
	      (unsigned long long)packets, (unsigned long long)bytes);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .dport = 53);
	COUNTERS(t, again, &packets, &bytes);
	CHECK(packets == 1, "re-added rule counts from zero: %llu", (unsigned long long)packets);
}

/* 2^(32-n) with prefix length n: 32 disjoint IPv4 prefixes, one shape each. */
static void disjoint_prefix(unsigned int plen, char *rule, size_t rlen, char *addr, size_t alen)
{
	uint32_t a = 1u << (32 - plen);

	snprintf(addr, alen, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	snprintf(rule, rlen, "src %s/%u", addr, plen);
}

static void shape_limit(struct tcase *t)
{
	char rule[64], addr[32];
	uint32_t slots[33];
	struct sl_err err = { 0 };
	uint32_t slot;
	int rc;

	for (unsigned int n = 1; n <= 32; n++) {
		disjoint_prefix(n, rule, sizeof(rule), addr, sizeof(addr));
		RULE(t, rule, &slots[n]);
	}
	CHECK(sl_dp_hook_shape_count(t->h) == 32, "32 shapes in use: %u",
	      sl_dp_hook_shape_count(t->h));

	rc = harness_rule_try(t, "src 2001:db8::1", &slot, &err);
	CHECK(rc == -ENOSPC, "33rd shape refused with ENOSPC: got %d (%s)", rc, err.msg);
	CHECK(err.msg[0] && strstr(err.msg, "shape"), "refusal says why: '%s'", err.msg);
	/* A rule reusing an existing shape still fits. */
	RULE(t, "src 192.0.2.0/24", &slots[0]);
	CHECK(sl_dp_hook_rule_count(t->h) == 33 && sl_dp_hook_shape_count(t->h) == 32,
	      "after refusal: %u rules, %u shapes (want 33, 32)", sl_dp_hook_rule_count(t->h),
	      sl_dp_hook_shape_count(t->h));
	EXPECT_PASS(t, .family = 6, .src = "2001:db8::1", .proto = IPPROTO_TCP);
	EXPECT_DROP(t, .family = 4, .src = "192.0.2.77", .proto = IPPROTO_TCP);
	for (unsigned int n = 1; n <= 32; n++) {
		static struct frame f;

		disjoint_prefix(n, rule, sizeof(rule), addr, sizeof(addr));
		if (BUILD(&f, .family = 4, .src = addr, .proto = IPPROTO_UDP))
			EXPECT_FRAME(t, &f, V_DROP, rule);
	}

	/* Free 16 shapes, then ask for 32 at once (16 port blocks x 2 families). */
	DEL(t, slots[0]);
	for (unsigned int n = 17; n <= 32; n++)
		DEL(t, slots[n]);
	CHECK(sl_dp_hook_shape_count(t->h) == 16, "16 shapes after deleting 16 rules: %u",
	      sl_dp_hook_shape_count(t->h));
	memset(&err, 0, sizeof(err));
	rc = harness_rule_try(t, "proto tcp dport 1-65535", &slot, &err);
	CHECK(rc == -ENOSPC, "rule needing 32 shapes with 16 free: want ENOSPC, got %d (%s)", rc,
	      err.msg);
	CHECK(sl_dp_hook_shape_count(t->h) == 16 && sl_dp_hook_rule_count(t->h) == 16,
	      "refused rule left nothing behind: %u shapes, %u rules (want 16, 16)",
	      sl_dp_hook_shape_count(t->h), sl_dp_hook_rule_count(t->h));
	EXPECT_PASS(t, .family = 4, .src = "0.0.0.1", .proto = IPPROTO_TCP, .dport = 1);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 65535);
	EXPECT_DROP(t, .family = 4, .src = "128.0.0.1", .proto = IPPROTO_TCP, .dport = 1);
	EXPECT_DROP(t, .family = 4, .src = "1.0.0.1", .proto = IPPROTO_TCP, .dport = 1);

	/* The same ports for one family need exactly the 16 free shapes. */
	RULE(t, "src 0.0.0.1 proto tcp dport 1-65535", &slot);
	CHECK(sl_dp_hook_shape_count(t->h) == 32, "all 32 shapes used again: %u",
	      sl_dp_hook_shape_count(t->h));
	EXPECT_DROP(t, .family = 4, .src = "0.0.0.1", .proto = IPPROTO_TCP, .dport = 1);
	EXPECT_DROP(t, .family = 4, .src = "0.0.0.1", .proto = IPPROTO_TCP, .dport = 65535);
	EXPECT_PASS(t, .family = 4, .src = "0.0.0.1", .proto = IPPROTO_TCP, .dport = 0);
	EXPECT_DROP(t, .family = 4, .src = "64.0.0.1", .proto = IPPROTO_TCP, .dport = 0);
}

/* A hook sized for few rules refuses the next one and keeps the others. */
static void slot_limit(struct tcase *t)
{
	struct sl_dp_opts opts = { .rule_slots = 4 };
	struct sl_err err = { 0 };
	struct tcase small = { .kind = t->kind };
	uint32_t slot;
	int rc;

	rc = sl_dp_hook_open_detached(t->kind, &opts, &small.h, &err);
	if (!CHECK(rc == 0, "open a 4-slot hook: %s", err.msg))
		return;
	for (int i = 1; i <= 4; i++) {
		char rule[32];

		snprintf(rule, sizeof(rule), "proto tcp dport %d", i);
		RULE(&small, rule, NULL);
	}
	rc = harness_rule_try(&small, "proto tcp dport 5", &slot, &err);
	CHECK(rc == -ENOSPC, "fifth rule in 4 slots: want ENOSPC, got %d (%s)", rc, err.msg);
	EXPECT_DROP(&small, .family = 4, .proto = IPPROTO_TCP, .dport = 4);
	EXPECT_PASS(&small, .family = 4, .proto = IPPROTO_TCP, .dport = 5);
	sl_dp_hook_close(small.h);
}

/*
 * Each classifier map (IPv6 shapes' and the others') holds 4 entries per rule
 * slot; a rule whose entries overflow one fails part-way through and must
 * take back what it inserted.
 */
static void rules_map_full_family(struct tcase *t, int family)
{
	struct sl_dp_opts opts = { .rule_slots = 2 };
	const char *net = family == 4 ? "10.0.0.0/8" : "fd00::/8";
	const char *in = family == 4 ? "10.1.2.3" : "fd00::3";
	struct sl_err err = { 0 };
	struct tcase small = { .kind = t->kind };
	char rule[96];
	uint32_t slot, first;
	int rc;

	rc = sl_dp_hook_open_detached(t->kind, &opts, &small.h, &err);
	if (!CHECK(rc == 0, "open a 2-slot hook (8 entries a map): %s", err.msg))
		return;
	snprintf(rule, sizeof(rule), "src %s proto tcp dport 1024-1535", net); /* 1 entry */
	RULE(&small, rule, &first);
	/* 8 blocks: the 8th entry does not fit. */
	snprintf(rule, sizeof(rule), "src %s proto udp dport 1000-2000", net);
	rc = harness_rule_try(&small, rule, &slot, &err);
	CHECK(rc == -ENOSPC, "IPv%d rule overflowing its classifier map: want ENOSPC, got %d (%s)",
	      family, rc, err.msg);
	CHECK(sl_dp_hook_rule_count(small.h) == 1 && sl_dp_hook_shape_count(small.h) == 1,
	      "failed rule took back its entries and shapes: %u rules, %u shapes (want 1, 1)",
	      sl_dp_hook_rule_count(small.h), sl_dp_hook_shape_count(small.h));
	EXPECT_PASS(&small, .family = family, .src = in, .proto = IPPROTO_UDP, .dport = 1000);
	EXPECT_PASS(&small, .family = family, .src = in, .proto = IPPROTO_UDP, .dport = 1024);
	EXPECT_PASS(&small, .family = family, .src = in, .proto = IPPROTO_UDP, .dport = 2000);
	EXPECT_DROP(&small, .family = family, .src = in, .proto = IPPROTO_TCP, .dport = 1024);
	/* The room it took back is usable: 7 entries fit beside the first rule. */
	snprintf(rule, sizeof(rule), "src %s proto udp dport 1000-1999", net);
	RULE(&small, rule, &slot); /* 1000-1007 .. 1984-1999: 7 blocks */
	EXPECT_DROP(&small, .family = family, .src = in, .proto = IPPROTO_UDP, .dport = 1999);
	EXPECT_PASS(&small, .family = family, .src = in, .proto = IPPROTO_UDP, .dport = 2000);
	sl_dp_hook_close(small.h);
}

static void rules_map_full(struct tcase *t)
{
	rules_map_full_family(t, 4);
	rules_map_full_family(t, 6);
}


const struct case_def cases_rules[] = {
	{ "overlap-different-shapes", overlap_different_shapes },
	{ "overlap-identical", overlap_identical },
	{ "overlap-port-blocks", overlap_port_blocks },
	{ "counters-exact", counters_exact },
	{ "counters-readd", counters_readd },
	{ "shape-limit", shape_limit },
	{ "slot-limit", slot_limit },
	{ "rules-map-full", rules_map_full },
	{ NULL, NULL },
};
