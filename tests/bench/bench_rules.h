/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The benchmark's rule population: rules of mixed shapes added round-robin,
 * so every shape is populated, and the frames that miss or hit them.
 */
#ifndef SLUICE_BENCH_RULES_H
#define SLUICE_BENCH_RULES_H

#include <stddef.h>

#include "frames.h"

/* Rule kinds, in the order their shapes are created (and probed). */
enum bench_kind {
	BK_V4_SRC32,          /* src a.b.c.d */
	BK_V4_DST24_TCP_PORT, /* dst a.b.c.0/24 proto tcp dport p */
	BK_V6_SRC128,         /* src 2001:db8:1::k */
	BK_UDP_PORT,          /* proto udp dport p: one IPv4 and one IPv6 shape */
	BK_V6_DST64_TCP_PORT, /* dst 2001:db8:2:k::/64 proto tcp dport 22 */
	BK_V4_SRC16_TCP,      /* src a.b.0.0/16 proto tcp: the last IPv4 shape */
	BK_NKINDS,
};

/* Classifier shapes the full population creates. */
#define BENCH_SHAPES 7

/* Text of rule i (0-based); rules stay distinct, and miss the miss frame, up to 150,000. */
int bench_rule_text(size_t i, char *buf, size_t len);
const char *bench_kind_desc(enum bench_kind k);

/* An IPv4 TCP frame no rule matches: it probes every IPv4 shape. */
int bench_miss_frame(struct frame *f);
/*
 * An IPv4 TCP frame matching a rule of the last IPv4 shape probed, or with
 * fewer rules than kinds, matching rule 0.
 */
int bench_hit_frame(size_t nrules, struct frame *f);

#endif
