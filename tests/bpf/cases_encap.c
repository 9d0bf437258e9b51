// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Headers between Ethernet and the ports: VLAN tags, IPv4 options, IPv6
 * extension headers, and fragments, which hide the ports altogether.
 */
#include <netinet/in.h>

#include "cases.h"

/*
 * The parser walks at most SL_MAX_IPV6_EXT (6) extension headers, yet a
 * chain of exactly six ends the walk before it looks at the transport.
 */
#define BUG_IPV6_EXT_LIMIT \
	"bpf/parse.h sl_parse_ipv6: a chain of exactly SL_MAX_IPV6_EXT (6) extension headers is reported truncated, so the packet passes"

/*
 * Past its walk limit the parser calls the whole packet truncated, so even
 * rules on addresses, which sit in the fixed header, stop matching; per
 * protocol.md only frames whose headers end early pass untouched.
 */
#define BUG_IPV6_LONG_CHAIN \
	"bpf/parse.h sl_parse_ipv6: an extension chain longer than the walk limit makes the packet pass, so src/dst rules are evaded by adding extension headers"

static const enum frame_tags all_tags[] = { FRAME_UNTAGGED, FRAME_8021Q, FRAME_QINQ };

static void tagged_same_rules(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "src 10.0.0.0/8", NULL);
	RULE(t, "src 2001:db8:1::/48", NULL);
	RULE(t, "dst 198.51.100.0/24 proto udp dport 53", NULL);

	for (size_t i = 0; i < sizeof(all_tags) / sizeof(all_tags[0]); i++) {
		enum frame_tags tg = all_tags[i];

		EXPECT_DROP(t, .tags = tg, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_PASS(t, .tags = tg, .family = 4, .proto = IPPROTO_TCP, .dport = 8080);
		EXPECT_DROP(t, .tags = tg, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_PASS(t, .tags = tg, .family = 6, .proto = IPPROTO_TCP, .dport = 8080);
		EXPECT_DROP(t, .tags = tg, .family = 4, .proto = IPPROTO_ICMP, .src = "10.3.3.3");
		EXPECT_PASS(t, .tags = tg, .family = 4, .proto = IPPROTO_ICMP, .src = "11.3.3.3");
		EXPECT_DROP(t, .tags = tg, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8:1:ff::1");
		EXPECT_PASS(t, .tags = tg, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8:2::1");
		EXPECT_DROP(t, .tags = tg, .family = 4, .proto = IPPROTO_UDP,
			    .dst = "198.51.100.53", .dport = 53);
		EXPECT_PASS(t, .tags = tg, .family = 4, .proto = IPPROTO_UDP,
			    .dst = "198.51.100.53", .dport = 54);
		EXPECT_PASS(t, .tags = tg, .family = 0, .ether_type = FRAME_ETH_P_ARP);
	}
}

static void ipv4_options(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "proto udp sport 5000-5999", NULL);

	for (uint8_t opt = 4; opt <= 40; opt += 4) {
		EXPECT_DROP(t, .family = 4, .ip_opt_len = opt, .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_PASS(t, .family = 4, .ip_opt_len = opt, .proto = IPPROTO_TCP, .dport = 8080);
		EXPECT_DROP(t, .family = 4, .ip_opt_len = opt, .proto = IPPROTO_UDP, .sport = 5999);
		EXPECT_PASS(t, .family = 4, .ip_opt_len = opt, .proto = IPPROTO_UDP, .sport = 6000);
		EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 4, .ip_opt_len = opt,
			    .proto = IPPROTO_TCP, .dport = 80);
	}
}

/* Options must be skipped by ihl: ports at a fixed offset 20 would read option bytes. */
static void ipv4_options_not_ports(struct tcase *t)
{
	/* The Router Alert option starts 0x94 0x04 0x00 0x00: "ports" 37892 and 0. */
	RULE(t, "proto tcp dport 0", NULL);
	RULE(t, "proto tcp sport 37892", NULL);
	EXPECT_PASS(t, .family = 4, .ip_opt_len = 4, .proto = IPPROTO_TCP, .sport = 1, .dport = 2);
	EXPECT_DROP(t, .family = 4, .ip_opt_len = 4, .proto = IPPROTO_TCP, .sport = 1, .dport = 0);
}

static void ipv6_each_extension(struct tcase *t)
{
	static const uint8_t exts[] = { FRAME_EXT_HOPOPTS, FRAME_EXT_ROUTING, FRAME_EXT_FRAGMENT,
					FRAME_EXT_DSTOPTS, FRAME_EXT_AH };

	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "proto udp dport 53", NULL);

	for (size_t i = 0; i < sizeof(exts); i++) {
		uint8_t e = exts[i];

		/* For the fragment header: an atomic fragment, offset 0 and no M flag. */
		EXPECT_DROP(t, .family = 6, .ext = { e }, .next = 1, .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_PASS(t, .family = 6, .ext = { e }, .next = 1, .proto = IPPROTO_TCP, .dport = 81);
		EXPECT_DROP(t, .family = 6, .ext = { e }, .next = 1, .proto = IPPROTO_UDP, .dport = 53);
		EXPECT_PASS(t, .family = 6, .ext = { e }, .next = 1, .proto = IPPROTO_UDP, .dport = 54);
		EXPECT_DROP(t, .tags = FRAME_8021Q, .family = 6, .ext = { e }, .next = 1,
			    .proto = IPPROTO_TCP, .dport = 80);
		EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 6, .ext = { e }, .next = 1,
			    .proto = IPPROTO_TCP, .dport = 80);
	}
}

static void ipv6_extension_chains(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "proto icmpv6", NULL);

	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS }, .next = 2,
		    .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6,
		    .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_ROUTING }, .next = 3,
		    .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6,
		    .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_ROUTING, FRAME_EXT_FRAGMENT, FRAME_EXT_AH },
		    .next = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6,
		    .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_ROUTING,
			     FRAME_EXT_FRAGMENT, FRAME_EXT_AH },
		    .next = 5, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6,
		    .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_ROUTING,
			     FRAME_EXT_FRAGMENT, FRAME_EXT_AH },
		    .next = 5, .proto = IPPROTO_TCP, .dport = 8080);
	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS }, .next = 2,
		    .proto = IPPROTO_ICMPV6);
}

/*
 * RFC 8200 section 4.1 order with every header once, destination options
 * twice: six headers, a legitimate packet the parser must see through.
 */
static void ipv6_six_extensions(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "src 2001:db8::/32", NULL);

	EXPECT_DROP_BUG(t, BUG_IPV6_EXT_LIMIT, .family = 6,
			.ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_ROUTING,
				 FRAME_EXT_FRAGMENT, FRAME_EXT_AH, FRAME_EXT_DSTOPTS },
			.next = 6, .src = "2001:db9::1", .proto = IPPROTO_TCP, .dport = 80);
	/* The same for a rule that needs no ports: the address is right there. */
	EXPECT_DROP_BUG(t, BUG_IPV6_EXT_LIMIT, .family = 6,
			.ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_ROUTING,
				 FRAME_EXT_FRAGMENT, FRAME_EXT_AH, FRAME_EXT_DSTOPTS },
			.next = 6, .src = "2001:db8::1", .proto = IPPROTO_UDP, .dport = 9);
}

/*
 * Eight headers: more than RFC 8200 order allows, yet the Linux stack
 * accepts repeated destination options. A rule on the source address does
 * not depend on the chain, so it must still match.
 */
static void ipv6_overlong_chain(struct tcase *t)
{
	static struct frame f;

	RULE(t, "proto tcp dport 80", NULL);
	RULE(t, "src 2001:db8::/32", NULL);

	EXPECT_DROP_BUG(t, BUG_IPV6_LONG_CHAIN, .family = 6,
			.ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS,
				 FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS,
				 FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS },
			.next = 8, .src = "2001:db8::1", .proto = IPPROTO_UDP, .dport = 9);
	/* Ports past the walk limit: no verdict promised, but the run must be sane. */
	if (BUILD(&f, .family = 6,
		  .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS,
			   FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS,
			   FRAME_EXT_DSTOPTS, FRAME_EXT_DSTOPTS },
		  .next = 8, .src = "2001:db9::1", .proto = IPPROTO_TCP, .dport = 80))
		EXPECT_SANE_FRAME(t, &f, "eight extension headers, port rule");
}

static void ipv4_fragments(struct tcase *t)
{
	uint32_t port_rule, src_rule, proto_rule;

	RULE(t, "proto tcp dport 80", &port_rule);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .more_fragments = true);
	/* Later fragments: the bytes where ports would be say dport 80, and must be ignored. */
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .frag_offset = 185,
		    .more_fragments = true);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .frag_offset = 185);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .frag_offset = 1);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .frag_offset = 0x1fff);
	RULE(t, "proto tcp dport 0-65535", NULL);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .frag_offset = 185);

	RULE(t, "src 10.0.0.0/8", &src_rule);
	EXPECT_DROP(t, .family = 4, .src = "10.0.0.1", .proto = IPPROTO_TCP, .dport = 9,
		    .frag_offset = 185, .more_fragments = true);
	EXPECT_DROP(t, .family = 4, .src = "10.0.0.1", .proto = IPPROTO_TCP, .dport = 9,
		    .frag_offset = 185);
	EXPECT_DROP(t, .family = 4, .src = "10.0.0.1", .proto = IPPROTO_TCP, .dport = 9,
		    .more_fragments = true);
	EXPECT_PASS(t, .family = 4, .src = "11.0.0.1", .proto = IPPROTO_TCP, .dport = 9,
		    .frag_offset = 185);
	/* Protocol rules match later fragments too: the protocol is in the IP header. */
	RULE(t, "proto udp", &proto_rule);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .dport = 9, .frag_offset = 185);
	EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 4, .proto = IPPROTO_UDP, .dport = 9,
		    .frag_offset = 185);
	/* DF alone is not fragmentation. */
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80, .dont_fragment = true);
}

static void ipv6_fragments(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	/* First fragment: offset 0, M set; ports are present and must match. */
	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_FRAGMENT }, .next = 1,
		    .more_fragments = true, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_FRAGMENT }, .next = 2,
		    .more_fragments = true, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_FRAGMENT, FRAME_EXT_DSTOPTS }, .next = 2,
		    .more_fragments = true, .proto = IPPROTO_TCP, .dport = 80);
	/* Later fragments, with or without M. */
	EXPECT_PASS(t, .family = 6, .ext = { FRAME_EXT_FRAGMENT }, .next = 1, .frag_offset = 181,
		    .more_fragments = true, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .ext = { FRAME_EXT_FRAGMENT }, .next = 1, .frag_offset = 181,
		    .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_FRAGMENT }, .next = 2,
		    .frag_offset = 1, .proto = IPPROTO_TCP, .dport = 80);

	RULE(t, "src 2001:db8:77::/48", NULL);
	EXPECT_DROP(t, .family = 6, .src = "2001:db8:77::5", .ext = { FRAME_EXT_FRAGMENT },
		    .next = 1, .frag_offset = 181, .proto = IPPROTO_TCP, .dport = 9);
	EXPECT_DROP(t, .family = 6, .src = "2001:db8:77::5",
		    .ext = { FRAME_EXT_HOPOPTS, FRAME_EXT_FRAGMENT }, .next = 2, .frag_offset = 181,
		    .proto = IPPROTO_TCP, .dport = 9);
	EXPECT_PASS(t, .family = 6, .src = "2001:db8:78::5", .ext = { FRAME_EXT_FRAGMENT },
		    .next = 1, .frag_offset = 181, .proto = IPPROTO_TCP, .dport = 9);

	RULE(t, "proto udp", NULL);
	EXPECT_DROP(t, .family = 6, .ext = { FRAME_EXT_FRAGMENT }, .next = 1, .frag_offset = 181,
		    .proto = IPPROTO_UDP, .dport = 9);
}

const struct case_def cases_encap[] = {
	{ "tagged-8021q-qinq", tagged_same_rules },
	{ "ipv4-options", ipv4_options },
	{ "ipv4-options-not-ports", ipv4_options_not_ports },
	{ "ipv6-each-extension", ipv6_each_extension },
	{ "ipv6-extension-chains", ipv6_extension_chains },
	{ "ipv6-six-extensions", ipv6_six_extensions },
	{ "ipv6-overlong-chain", ipv6_overlong_chain },
	{ "ipv4-fragments", ipv4_fragments },
	{ "ipv6-fragments", ipv6_fragments },
	{ NULL, NULL },
};
