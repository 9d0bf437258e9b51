// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Each match field on its own: protocol, ports, ether type, prefixes. */
#include <netinet/in.h>

#include "cases.h"

/*
 * Runs every port 0-65535 through the program and checks the verdict is
 * drop exactly inside [lo, hi]: ranges become power-of-two blocks with one
 * shape per block size, so off-by-one errors hide between the named edges.
 */
static void sweep_port(struct tcase *t, int family, uint8_t proto, bool dport, unsigned int lo,
		       unsigned int hi, const char *file, int line)
{
	static struct frame f;
	unsigned int bad = 0, first_bad = 0;
	int first_ret = 0;

	if (!case_build(&(struct frame_spec){ .family = family, .proto = proto }, &f, "sweep", file,
			line))
		return;
	for (unsigned int p = 0; p <= 65535; p++) {
		size_t off = f.l4_off + (dport ? 2 : 0);
		enum verdict want = p >= lo && p <= hi ? V_DROP : V_PASS;
		int ret = 0;

		f.data[off] = (uint8_t)(p >> 8);
		f.data[off + 1] = (uint8_t)p;
		if (harness_run(t, f.data, f.len, &ret) || ret != harness_retval(t->kind, want)) {
			if (!bad++) {
				first_bad = p;
				first_ret = ret;
			}
		}
	}
	check_report(bad == 0, file, line, "sweep", NULL,
		     "IPv%d proto %u %s sweep 0-65535 against %u-%u: %u wrong verdicts, first at port %u (retval %d)",
		     family, proto, dport ? "dport" : "sport", lo, hi, bad, first_bad, first_ret);
}

#define SWEEP_DPORT(t, fam, proto, lo, hi) sweep_port((t), (fam), (proto), true, (lo), (hi), __FILE__, __LINE__)
#define SWEEP_SPORT(t, fam, proto, lo, hi) sweep_port((t), (fam), (proto), false, (lo), (hi), __FILE__, __LINE__)

static void proto_icmp(struct tcase *t)
{
	RULE(t, "proto icmp", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_ICMP);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_ICMP, .payload_len = 56);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 53);
	/* icmp is an IPv4 protocol; IPv6 speaks ICMPv6 and next header 1 is not it. */
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_ICMPV6);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_ICMP);
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
}

static void proto_icmpv6(struct tcase *t)
{
	RULE(t, "proto icmpv6", NULL);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_ICMPV6);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP);
}

static void tcp_dport_exact(struct tcase *t)
{
	RULE(t, "proto tcp dport 80", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .sport = 40000, .dport = 80);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .sport = 40000, .dport = 80);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .sport = 40000, .dport = 8080);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .sport = 40000, .dport = 8080);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .sport = 80, .dport = 40000);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .sport = 40000, .dport = 80);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP);
	SWEEP_DPORT(t, 4, IPPROTO_TCP, 80, 80);
}

static void udp_sport_exact(struct tcase *t)
{
	RULE(t, "proto udp sport 53", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .sport = 53, .dport = 33000);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_UDP, .sport = 53, .dport = 33000);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .sport = 33000, .dport = 53);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .sport = 53, .dport = 33000);
}

static void dport_range_1000_2000(struct tcase *t)
{
	RULE(t, "proto tcp dport 1000-2000", NULL);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 999);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1000);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1500);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 2000);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 2001);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 999);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 1000);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 2000);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 2001);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 1500);
	SWEEP_DPORT(t, 4, IPPROTO_TCP, 1000, 2000);
	SWEEP_DPORT(t, 6, IPPROTO_TCP, 1000, 2000);
}

static void sport_range_1000_2000(struct tcase *t)
{
	RULE(t, "proto udp sport 1000-2000", NULL);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .sport = 999, .dport = 1500);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .sport = 1000);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .sport = 2000);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .sport = 2001, .dport = 1500);
	SWEEP_SPORT(t, 4, IPPROTO_UDP, 1000, 2000);
}

static void dport_range_all(struct tcase *t)
{
	RULE(t, "proto tcp dport 0-65535", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 0);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 65534);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 65535);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 0);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 65535);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 0);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 65535);
	SWEEP_DPORT(t, 4, IPPROTO_TCP, 0, 65535);
}

static void dport_range_1_65535(struct tcase *t)
{
	RULE(t, "proto tcp dport 1-65535", NULL);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 0);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 1);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 2);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 32768);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 65535);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .dport = 0);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 65535);
	SWEEP_DPORT(t, 4, IPPROTO_TCP, 1, 65535);
	SWEEP_DPORT(t, 6, IPPROTO_TCP, 1, 65535);
}

static void dport_range_top_edge(struct tcase *t)
{
	RULE(t, "proto udp dport 65000-65535", NULL);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 64999);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .dport = 65000);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .dport = 65535);
	SWEEP_DPORT(t, 4, IPPROTO_UDP, 65000, 65535);
}

static void sport_and_dport(struct tcase *t)
{
	RULE(t, "proto tcp sport 1024-65535 dport 22", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .sport = 1024, .dport = 22);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .sport = 65535, .dport = 22);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .sport = 1023, .dport = 22);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .sport = 2000, .dport = 23);
}

static void ether_type_arp(struct tcase *t)
{
	RULE(t, "ether-type arp", NULL);
	EXPECT_DROP(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
	EXPECT_DROP(t, .tags = FRAME_8021Q, .family = 0, .ether_type = FRAME_ETH_P_ARP);
	EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 0, .ether_type = FRAME_ETH_P_ARP);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .dport = 53);
	EXPECT_PASS(t, .family = 0, .ether_type = 0x88cc, .payload_len = 32); /* LLDP */
}

static void ether_type_other(struct tcase *t)
{
	RULE(t, "ether-type 0x88cc", NULL);
	EXPECT_DROP(t, .family = 0, .ether_type = 0x88cc, .payload_len = 32);
	EXPECT_DROP(t, .tags = FRAME_8021Q, .family = 0, .ether_type = 0x88cc, .payload_len = 32);
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP);
}

static void ether_type_ipv6(struct tcase *t)
{
	RULE(t, "ether-type ipv6", NULL);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_ICMPV6);
	EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 6, .proto = IPPROTO_UDP);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
}

static void src_ipv4_prefixes(struct tcase *t)
{
	RULE(t, "src 10.0.0.0/8", NULL);
	RULE(t, "src 192.0.2.0/24", NULL);
	RULE(t, "src 203.0.113.7/32", NULL);

	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.0.0.0");
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.255.255.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "9.255.255.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "11.0.0.0");

	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .src = "192.0.2.0");
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDP, .src = "192.0.2.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .src = "192.0.1.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .src = "192.0.3.0");

	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_ICMP, .src = "203.0.113.7");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP, .src = "203.0.113.6");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP, .src = "203.0.113.8");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP, .src = "103.0.113.7");

	/* src means source: the same address as destination does not match. */
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "198.51.100.9",
		    .dst = "10.1.2.3");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "198.51.100.9",
		    .dst = "203.0.113.7");
	/* An IPv4 rule never matches IPv6 or ARP. */
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .src = "::ffff:10.0.0.1");
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
}

static void src_ipv6_prefixes(struct tcase *t)
{
	RULE(t, "src 2001:db8:1:2::/64", NULL);
	RULE(t, "src 2001:db8::42/128", NULL);

	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .src = "2001:db8:1:2::");
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .src = "2001:db8:1:2:ffff:ffff:ffff:ffff");
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_ICMPV6, .src = "2001:db8:1:2::99");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .src = "2001:db8:1:1:ffff:ffff:ffff:ffff");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .src = "2001:db8:1:3::");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_TCP, .src = "2001:db9:1:2::1");

	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8::42");
	/* One differing bit in each 32-bit word of the address. */
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db9::42");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8:1::42");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8::1:0:42");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8::43");

	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8::7", .dst = "2001:db8::42");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP);
}

static void dst_prefixes(struct tcase *t)
{
	RULE(t, "dst 198.51.100.0/24", NULL);
	RULE(t, "dst 2001:db8:aa:bb::/64", NULL);

	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dst = "198.51.100.0");
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dst = "198.51.100.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dst = "198.51.101.0");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dst = "198.51.99.255");
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "198.51.100.1",
		    .dst = "192.0.2.1");

	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_UDP, .dst = "2001:db8:aa:bb::1");
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_UDP, .dst = "2001:db8:aa:bb:ffff:ffff:ffff:ffff");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .dst = "2001:db8:aa:bc::1");
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .src = "2001:db8:aa:bb::1",
		    .dst = "2001:db8::2");
}

static void src_dst_ports_combined(struct tcase *t)
{
	RULE(t, "src 10.1.0.0/16 dst 192.0.2.0/24 proto tcp dport 443", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.1.2.3", .dst = "192.0.2.9",
		    .dport = 443);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.2.2.3", .dst = "192.0.2.9",
		    .dport = 443);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.1.2.3", .dst = "192.0.3.9",
		    .dport = 443);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.1.2.3", .dst = "192.0.2.9",
		    .dport = 444);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .src = "10.1.2.3", .dst = "192.0.2.9",
		    .dport = 443);
}

static void proto_tcp_both_families(struct tcase *t)
{
	RULE(t, "proto tcp", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_TCP, .src = "10.9.9.9", .dport = 0);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_TCP, .src = "fe80::1", .dport = 65535);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .dport = 80);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_ICMP);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_ICMPV6);
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
}

static void proto_numeric(struct tcase *t)
{
	RULE(t, "proto 47", NULL); /* GRE: no ports, no real header from the builder */
	EXPECT_DROP(t, .family = 4, .proto = 47, .payload_len = 20);
	EXPECT_DROP(t, .family = 6, .proto = 47, .payload_len = 20);
	EXPECT_PASS(t, .family = 4, .proto = 46, .payload_len = 20);
}

/* Every protocol the parser reads ports for, and one it must not. */
static void ports_other_protocols(struct tcase *t)
{
	RULE(t, "proto sctp dport 3868", NULL);
	RULE(t, "proto udplite sport 5004", NULL);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_SCTP, .sport = 1, .dport = 3868);
	EXPECT_DROP(t, .family = 6, .proto = IPPROTO_SCTP, .sport = 1, .dport = 3868);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_SCTP, .sport = 3868, .dport = 1);
	EXPECT_DROP(t, .family = 4, .proto = IPPROTO_UDPLITE, .sport = 5004, .dport = 1);
	EXPECT_DROP(t, .tags = FRAME_QINQ, .family = 6, .proto = IPPROTO_UDPLITE, .sport = 5004);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDPLITE, .sport = 5005, .dport = 1);
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_UDP, .sport = 5004, .dport = 1);
}

static void no_rules(struct tcase *t)
{
	EXPECT_PASS(t, .family = 4, .proto = IPPROTO_TCP, .dport = 80);
	EXPECT_PASS(t, .family = 6, .proto = IPPROTO_UDP, .dport = 53);
	EXPECT_PASS(t, .family = 0, .ether_type = FRAME_ETH_P_ARP);
}

const struct case_def cases_match[] = {
	{ "no-rules-pass", no_rules },
	{ "proto-icmp", proto_icmp },
	{ "proto-icmpv6", proto_icmpv6 },
	{ "proto-numeric", proto_numeric },
	{ "proto-tcp-both-families", proto_tcp_both_families },
	{ "tcp-dport-exact", tcp_dport_exact },
	{ "udp-sport-exact", udp_sport_exact },
	{ "dport-range-1000-2000", dport_range_1000_2000 },
	{ "sport-range-1000-2000", sport_range_1000_2000 },
	{ "dport-range-0-65535", dport_range_all },
	{ "dport-range-1-65535", dport_range_1_65535 },
	{ "dport-range-65000-65535", dport_range_top_edge },
	{ "sport-and-dport", sport_and_dport },
	{ "ports-sctp-udplite", ports_other_protocols },
	{ "ether-type-arp", ether_type_arp },
	{ "ether-type-other", ether_type_other },
	{ "ether-type-ipv6", ether_type_ipv6 },
	{ "src-ipv4-prefixes", src_ipv4_prefixes },
	{ "src-ipv6-prefixes", src_ipv6_prefixes },
	{ "dst-prefixes", dst_prefixes },
	{ "src-dst-ports-combined", src_dst_ports_combined },
	{ NULL, NULL },
};
