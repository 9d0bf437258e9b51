// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Frames that end early or carry impossible header lengths: they must pass
 * untouched even when a rule would match the complete frame.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "cases.h"

#define ETH_HLEN_BYTES 14

enum cut_region {
	CUT_ETHERNET,
	CUT_TAG,
	CUT_IP_HEADER,
	CUT_IP_OPTIONS,
	CUT_IPV6_EXT,
	CUT_PORTS,
	CUT_AFTER_PORTS,
	CUT_NREGIONS,
};

static const char *const region_names[CUT_NREGIONS] = {
	[CUT_ETHERNET] = "inside the Ethernet header",
	[CUT_TAG] = "inside a VLAN tag",
	[CUT_IP_HEADER] = "inside the IP header",
	[CUT_IP_OPTIONS] = "inside IPv4 options",
	[CUT_IPV6_EXT] = "inside an IPv6 extension header",
	[CUT_PORTS] = "inside the L4 ports",
	[CUT_AFTER_PORTS] = "after the ports",
};

static enum cut_region region_of(const struct frame *f, size_t cut)
{
	size_t ip_fixed = f->data[f->l3_off] >> 4 == 4 ? 20 : 40;

	if (cut < ETH_HLEN_BYTES)
		return CUT_ETHERNET;
	if (cut < f->l3_off)
		return CUT_TAG;
	if (cut < f->l3_off + ip_fixed)
		return CUT_IP_HEADER;
	if (f->next && cut < f->l4_off)
		return CUT_IPV6_EXT;
	if (cut < f->l4_off)
		return CUT_IP_OPTIONS;
	if (cut < f->l4_off + 4)
		return CUT_PORTS;
	return CUT_AFTER_PORTS;
}

struct region_tally {
	unsigned int runs, bad;
	size_t first_bad;
	int first_ret, first_rc;
};

/*
 * test_run itself refuses some frames before the program sees them: any
 * frame shorter than an Ethernet header, and for sched_cls an untagged IPv4
 * or IPv6 frame shorter than the fixed IP header (the kernel checks the
 * network header of skb->protocol). Those refusals are accepted and noted;
 * the tagged sweeps reach the TC program with the same cuts.
 */
static bool kernel_refuses(const struct tcase *t, enum cut_region r, size_t cut, int rc)
{
	if (rc != -EINVAL)
		return false;
	return cut < ETH_HLEN_BYTES || (t->kind != SL_HOOK_XDP && r == CUT_IP_HEADER);
}

/* Cuts the frame at every length short of the ports and expects a pass. */
static void sweep_cuts(struct tcase *t, const struct frame *full, const char *what,
		       const char *file, int line)
{
	struct region_tally tally[CUT_NREGIONS] = { 0 };
	unsigned int refused = 0;
	int pass = harness_retval(t->kind, V_PASS), drop = harness_retval(t->kind, V_DROP);
	int ret = 0, rc;

	rc = harness_run(t, full->data, full->len, &ret);
	if (!check_report(rc == 0 && ret == drop, file, line, "full frame dropped", NULL,
			  "%s: the complete frame (%zu bytes) must drop for the sweep to mean anything (rc %d, retval %d)",
			  what, full->len, rc, ret))
		return;

	for (size_t cut = 0; cut < full->len; cut++) {
		enum cut_region r = region_of(full, cut);
		struct region_tally *rt = &tally[r];
		bool ok;

		ret = 0;
		rc = harness_run(t, full->data, cut, &ret);
		if (r == CUT_AFTER_PORTS) {
			ok = !rc && (ret == pass || ret == drop);
		} else if (kernel_refuses(t, r, cut, rc)) {
			ok = true;
			refused++;
		} else {
			ok = !rc && ret == pass;
		}
		rt->runs++;
		if (!ok && !rt->bad++) {
			rt->first_bad = cut;
			rt->first_ret = ret;
			rt->first_rc = rc;
		}
	}
	for (int r = 0; r < CUT_NREGIONS; r++) {
		struct region_tally *rt = &tally[r];

		if (!rt->runs)
			continue;
		check_report(rt->bad == 0, file, line, "cut frames pass", NULL,
			     "%s cut %s (%u lengths): %u wrong, first at %zu bytes (rc %d, retval %d)",
			     what, region_names[r], rt->runs, rt->bad, rt->first_bad, rt->first_rc,
			     rt->first_ret);
	}
	if (refused)
		check_note("%s: test_run refused %u of the cut lengths with EINVAL before running the program",
			   what, refused);
}

#define SWEEP_CUTS(t, f, what) sweep_cuts((t), (f), (what), __FILE__, __LINE__)

/* Rules that each match the complete frames below, on ports or on addresses. */
static void add_catching_rules(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "proto udp dport 53", NULL);
	RULE(t, "src 192.0.2.0/24", NULL);
	RULE(t, "src 2001:db8::/32", NULL);
}

static void cut_ipv4(struct tcase *t)
{
	static struct frame f;

	add_catching_rules(t);
	if (BUILD(&f, .family = 4, .ip_opt_len = 8, .proto = IPPROTO_TCP, .dport = 80))
		SWEEP_CUTS(t, &f, "IPv4+options TCP");
	if (BUILD(&f, .tags = FRAME_QINQ, .family = 4, .proto = IPPROTO_TCP, .dport = 80))
		SWEEP_CUTS(t, &f, "QinQ IPv4 TCP");
	if (BUILD(&f, .tags = FRAME_8021Q, .family = 4, .ip_opt_len = 40, .proto = IPPROTO_UDP,
		  .dport = 53))
		SWEEP_CUTS(t, &f, "802.1Q IPv4+40B options UDP");
}

static void cut_ipv6(struct tcase *t)
{
	static struct frame f;

	add_catching_rules(t);
	if (BUILD(&f, .family = 6, .proto = IPPROTO_TCP, .dport = 80))
		SWEEP_CUTS(t, &f, "IPv6 TCP");
	if (BUILD(&f, .family = 6,
		  .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_ROUTING, FRAME_EXT_FRAGMENT,
			   FRAME_EXT_DSTOPTS, FRAME_EXT_AH },
		  .next = 5, .more_fragments = true, .proto = IPPROTO_TCP, .dport = 80))
		SWEEP_CUTS(t, &f, "IPv6+5 extensions TCP");
	if (BUILD(&f, .tags = FRAME_QINQ, .family = 6, .ext = { FRAME_EXT_DSTOPTS }, .next = 1,
		  .proto = IPPROTO_UDP, .dport = 53))
		SWEEP_CUTS(t, &f, "QinQ IPv6+dstopts UDP");
}

static void cut_arp(struct tcase *t)
{
	static struct frame f;

	RULE(t, "ether-type arp", NULL);
	if (!BUILD(&f, .tags = FRAME_QINQ, .family = 0, .ether_type = FRAME_ETH_P_ARP))
		return;
	EXPECT_FRAME(t, &f, V_DROP, "QinQ ARP, complete");
	/* Cut inside the tags, the innermost ether type is unknown: pass. */
	for (size_t cut = ETH_HLEN_BYTES; cut < f.l3_off; cut++) {
		static struct frame c;

		c = f;
		frame_truncate(&c, cut);
		EXPECT_FRAME(t, &c, V_PASS, "QinQ ARP cut inside the tags");
	}
}

static void ipv4_short_ihl(struct tcase *t)
{
	static struct frame f;

	add_catching_rules(t);
	RULE(t, "proto tcp", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	for (uint8_t ihl = 1; ihl < 5; ihl++) {
		EXPECT_PASS(t, .family = 4, .ihl = ihl, .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_PASS(t, .tags = FRAME_8021Q, .family = 4, .ihl = ihl, .proto = IPPROTO_TCP,
			    .dport = 80);
	}
	/* The spec's ihl 0 means "compute it", so write a zero by hand. */
	if (BUILD(&f, .family = 4, .proto = IPPROTO_TCP, .dport = 80)) {
		f.data[f.l3_off] = 0x40;
		EXPECT_FRAME(t, &f, V_PASS, "IPv4 ihl 0");
	}
	/* ihl says 60 bytes, the frame ends first. */
	EXPECT_PASS(t, .family = 4, .ihl = 15, .proto = IPPROTO_UDP, .dport = 53);
	/* ihl and frame agree but the frame stops right after the options. */
	if (BUILD(&f, .family = 4, .ip_opt_len = 40, .proto = IPPROTO_TCP, .dport = 80)) {
		frame_truncate(&f, f.l4_off);
		EXPECT_FRAME(t, &f, V_PASS, "IPv4 ending right after its options");
	}
}

static void ipv6_bad_ext_len(struct tcase *t)
{
	static struct frame f;

	add_catching_rules(t);
	/* A hop-by-hop header claiming 2 KiB: the next header lies past the frame. */
	if (BUILD(&f, .family = 6, .ext = { FRAME_EXT_HOPOPTS }, .next = 1, .proto = IPPROTO_TCP,
		  .dport = 80)) {
		f.data[f.ext_off[0] + 1] = 255;
		EXPECT_FRAME(t, &f, V_PASS, "IPv6 hop-by-hop hdrlen 255");
	}
	if (BUILD(&f, .family = 6, .ext = { FRAME_EXT_AH }, .next = 1, .proto = IPPROTO_TCP,
		  .dport = 80)) {
		f.data[f.ext_off[0] + 1] = 255;
		EXPECT_FRAME(t, &f, V_PASS, "IPv6 AH payload len 255");
	}
	/* An extension chain that loops on itself until the parser gives up. */
	if (BUILD(&f, .family = 6, .ext = { FRAME_EXT_DSTOPTS }, .next = 1, .proto = IPPROTO_TCP,
		  .dport = 80)) {
		f.data[f.ext_off[0]] = FRAME_EXT_DSTOPTS;
		f.data[f.ext_off[0] + 1] = 0;
		EXPECT_SANE_FRAME(t, &f, "IPv6 destination options pointing at more options");
	}
}

static void only_ethernet(struct tcase *t)
{
	static struct frame f;

	add_catching_rules(t);
	RULE(t, "ether-type ipv4", NULL);
	RULE(t, "ether-type ipv6", NULL);
	RULE(t, "ether-type arp", NULL);
	/* XDP only: test_run refuses these for sched_cls (see kernel_refuses). */
	if (t->kind == SL_HOOK_XDP && BUILD(&f, .family = 4, .proto = IPPROTO_TCP, .dport = 80)) {
		frame_truncate(&f, ETH_HLEN_BYTES);
		EXPECT_FRAME(t, &f, V_PASS, "Ethernet header alone, type IPv4");
	}
	if (t->kind == SL_HOOK_XDP && BUILD(&f, .family = 6, .proto = IPPROTO_TCP, .dport = 80)) {
		frame_truncate(&f, ETH_HLEN_BYTES);
		EXPECT_FRAME(t, &f, V_PASS, "Ethernet header alone, type IPv6");
	}
	/* Tagged, the kernel does not look inside, so both programs see them. */
	if (BUILD(&f, .tags = FRAME_8021Q, .family = 4, .proto = IPPROTO_TCP, .dport = 80)) {
		frame_truncate(&f, f.l3_off);
		EXPECT_FRAME(t, &f, V_PASS, "802.1Q header alone, inner type IPv4");
	}
	if (BUILD(&f, .tags = FRAME_QINQ, .family = 6, .proto = IPPROTO_TCP, .dport = 80)) {
		frame_truncate(&f, f.l3_off);
		EXPECT_FRAME(t, &f, V_PASS, "QinQ headers alone, inner type IPv6");
	}
	/* Three tags: deeper than the parser walks; any verdict, but a sane one. */
	if (BUILD(&f, .tags = FRAME_QINQ, .family = 0, .ether_type = FRAME_ETH_P_8021Q,
		  .payload_len = 60)) {
		EXPECT_SANE_FRAME(t, &f, "three VLAN tags");
	}
}

const struct case_def cases_truncated[] = {
	{ "cut-ipv4", cut_ipv4 },
	{ "cut-ipv6", cut_ipv6 },
	{ "cut-arp-tags", cut_arp },
	{ "ipv4-short-ihl", ipv4_short_ihl },
	{ "ipv6-bad-ext-len", ipv6_bad_ext_len },
	{ "ethernet-only", only_ethernet },
	{ NULL, NULL },
};
