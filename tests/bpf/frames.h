/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Crafted Ethernet frames for BPF_PROG_TEST_RUN: a frame is described by a
 * spec (which layers, which field values) and built into bytes, recording
 * where each layer starts so cases can cut a frame inside any header.
 */
#ifndef SLUICE_TEST_FRAMES_H
#define SLUICE_TEST_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Comfortably under what test_run accepts in one page, with headroom. */
#define FRAME_MAX 2048
#define FRAME_MAX_EXT 8

#define FRAME_ETH_P_IP 0x0800
#define FRAME_ETH_P_ARP 0x0806
#define FRAME_ETH_P_8021Q 0x8100
#define FRAME_ETH_P_8021AD 0x88A8
#define FRAME_ETH_P_IPV6 0x86DD

/* IPv6 extension header types the builder knows (IANA numbers). */
#define FRAME_EXT_HOPOPTS 0
#define FRAME_EXT_ROUTING 43
#define FRAME_EXT_FRAGMENT 44
#define FRAME_EXT_AH 51
#define FRAME_EXT_DSTOPTS 60

enum frame_tags {
	FRAME_UNTAGGED,
	FRAME_8021Q, /* one 802.1Q tag */
	FRAME_QINQ,  /* 802.1ad outer tag, 802.1Q inner tag */
};

struct frame_spec {
	enum frame_tags tags;
	/* 4 or 6 for IP; 0 for a non-IP frame of ether_type (ARP gets a real body). */
	int family;
	uint16_t ether_type;
	const char *src, *dst; /* NULL: documentation addresses of the family */
	uint8_t proto;         /* IPPROTO_*; TCP, UDP, UDP-Lite, SCTP, ICMP, ICMPv6 get real headers */
	uint16_t sport, dport;
	uint8_t ip_opt_len;    /* IPv4 option bytes: multiple of 4, at most 40 */
	uint8_t ihl;           /* raw IPv4 ihl to write; 0 computes it */
	/* Fragmentation, IPv4 header or the IPv6 fragment header in ext[]. */
	uint16_t frag_offset;  /* in 8-byte units */
	bool more_fragments;
	bool dont_fragment;    /* IPv4 DF flag */
	uint8_t ext[FRAME_MAX_EXT]; /* IPv6 extension headers in wire order */
	int next;              /* how many of ext[] are used */
	uint16_t payload_len;  /* bytes after the L4 header */
};

struct frame {
	uint8_t data[FRAME_MAX];
	size_t len;
	/* Offsets of each layer, for truncation cases. */
	size_t tag_off[2];
	int ntags;
	size_t l3_off;
	size_t ip_opt_off; /* IPv4 options, when ip_opt_len > 0 */
	size_t ext_off[FRAME_MAX_EXT];
	int next;
	size_t l4_off;
};

/* Returns 0, or -EINVAL for a spec the builder cannot honour. */
int frame_build(const struct frame_spec *spec, struct frame *f);

/* Cuts the frame to len bytes (no-op when it is already shorter). */
void frame_truncate(struct frame *f, size_t len);

#endif
