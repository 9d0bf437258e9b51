// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>

#include "bench_rules.h"

#define BENCH_MAX_RULES 150000

static const char *const kind_desc[BK_NKINDS] = {
	[BK_V4_SRC32] = "IPv4 src /32",
	[BK_V4_DST24_TCP_PORT] = "IPv4 dst /24 + tcp dport",
	[BK_V6_SRC128] = "IPv6 src /128",
	[BK_UDP_PORT] = "udp dport (IPv4 + IPv6)",
	[BK_V6_DST64_TCP_PORT] = "IPv6 dst /64 + tcp dport",
	[BK_V4_SRC16_TCP] = "IPv4 src /16 + tcp",
};

const char *bench_kind_desc(enum bench_kind k)
{
	return kind_desc[k];
}

static void ipv4_text(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

/*
 * k is the rule's index within its kind. Address blocks are chosen apart
 * from each other and from the miss frame's 192.0.2.1 -> 198.51.100.1.
 */
int bench_rule_text(size_t i, char *buf, size_t len)
{
	uint32_t k = (uint32_t)(i / BK_NKINDS);
	char addr[32];

	if (i >= BENCH_MAX_RULES)
		return -ERANGE;
	switch ((enum bench_kind)(i % BK_NKINDS)) {
	case BK_V4_SRC32:
		ipv4_text(0x0a000000u + k, addr, sizeof(addr)); /* 10.0.0.0/8 */
		snprintf(buf, len, "src %s", addr);
		break;
	case BK_V4_DST24_TCP_PORT:
		ipv4_text(0xac100000u + (k << 8), addr, sizeof(addr)); /* from 172.16.0.0 */
		snprintf(buf, len, "dst %s/24 proto tcp dport %u", addr, 1 + k % 60000);
		break;
	case BK_V6_SRC128:
		snprintf(buf, len, "src 2001:db8:1::%x:%x", k >> 16, k & 0xffff);
		break;
	case BK_UDP_PORT:
		snprintf(buf, len, "proto udp dport %u", 1 + k);
		break;
	case BK_V6_DST64_TCP_PORT:
		snprintf(buf, len, "dst 2001:db8:2:%x::/64 proto tcp dport 22", k);
		break;
	case BK_V4_SRC16_TCP:
		ipv4_text((0x40u << 24) + (k << 16), addr, sizeof(addr)); /* from 64.0.0.0 */
		snprintf(buf, len, "src %s/16 proto tcp", addr);
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

int bench_miss_frame(struct frame *f)
{
	return frame_build(&(struct frame_spec){ .family = 4, .proto = IPPROTO_TCP,
						 .sport = 40000, .dport = 9,
						 .payload_len = 18 },
			   f);
}

int bench_hit_frame(size_t nrules, struct frame *f)
{
	uint32_t k;
	char src[32];

	if (nrules < BK_NKINDS)
		return frame_build(&(struct frame_spec){ .family = 4, .src = "10.0.0.0",
							 .proto = IPPROTO_TCP, .sport = 40000,
							 .dport = 9, .payload_len = 18 },
				   f);
	/* The middle rule of its kind: nothing special about the first or last. */
	k = (uint32_t)((nrules - BK_V4_SRC16_TCP - 1) / BK_NKINDS / 2);
	ipv4_text((0x40u << 24) + (k << 16) + 0x0101, src, sizeof(src));
	return frame_build(&(struct frame_spec){ .family = 4, .src = src, .proto = IPPROTO_TCP,
						 .sport = 40000, .dport = 9, .payload_len = 18 },
			   f);
}
