// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The match parsers and validation: what operators type on the command line
 * and over the socket, so every refusal must come with EINVAL and a message,
 * and every acceptance must print back in one canonical form.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "unit_check.h"

/* Table rows carry their own line, so a failure points at the row. */
#define AT __FILE__, __LINE__

/* Every refusal is -EINVAL, with the code recorded and a sentence for the person. */
static void check_refusal(const char *file, int line, const char *what, const char *text, int rc,
			  const struct sl_err *err)
{
	if (!ut_check(rc == -EINVAL, file, line, "%s('%s') returned %d, want -EINVAL", what, text,
		      rc))
		return;
	ut_check(err->code == EINVAL, file, line, "%s('%s') set err.code %d, want EINVAL", what,
		 text, err->code);
	ut_check(err->msg[0] != '\0', file, line, "%s('%s') left the message empty", what, text);
}

/* ---- prefixes ---- */

static void prefix_ok(const char *file, int line, const char *text, int family, int plen,
		      const char *canon)
{
	struct sl_prefix p, again;
	struct sl_err err = { 0 };
	char buf[64];
	uint8_t want[16] = { 0 };
	int rc;

	rc = sl_parse_prefix(text, &p, &err);
	if (!ut_check(rc == 0, file, line, "sl_parse_prefix('%s') = %d (%s), want 0", text, rc,
		      err.msg))
		return;
	ut_check(err.code == 0, file, line, "'%s' accepted but err.code = %d", text, err.code);
	ut_check(p.family == family, file, line, "'%s': family %u, want %d", text, p.family, family);
	ut_check(p.plen == plen, file, line, "'%s': plen %u, want %d", text, p.plen, plen);

	/* The address bytes must be what inet_pton makes of the address part. */
	{
		char addr[64];
		const char *slash = strchr(text, '/');
		size_t alen = slash ? (size_t)(slash - text) : strlen(text);

		snprintf(addr, sizeof(addr), "%.*s", (int)alen, text);
		inet_pton(family == 4 ? AF_INET : AF_INET6, addr, want);
		ut_check(!memcmp(p.addr, want, sizeof(want)), file, line,
			 "'%s': address bytes differ from inet_pton's", text);
	}

	sl_format_prefix(&p, buf, sizeof(buf));
	ut_check(!strcmp(buf, canon), file, line, "format('%s') = '%s', want '%s'", text, buf,
		 canon);
	/* The canonical form parses back to the very same prefix. */
	rc = sl_parse_prefix(buf, &again, &err);
	ut_check(rc == 0 && !memcmp(&again, &p, sizeof(p)), file, line,
		 "'%s' does not parse back to the same prefix", buf);
}

static void prefix_bad(const char *file, int line, const char *text)
{
	struct sl_prefix p;
	struct sl_err err = { 0 };

	check_refusal(file, line, "sl_parse_prefix", text, sl_parse_prefix(text, &p, &err), &err);
}

static void test_prefix(void)
{
	char longbuf[1100];

	prefix_ok(AT, "10.0.0.0/8", 4, 8, "10.0.0.0/8");
	prefix_ok(AT, "10.1.2.3", 4, 32, "10.1.2.3");
	prefix_ok(AT, "10.1.2.3/32", 4, 32, "10.1.2.3");
	prefix_ok(AT, "0.0.0.0/0", 4, 0, "0.0.0.0/0");
	prefix_ok(AT, "128.0.0.0/1", 4, 1, "128.0.0.0/1");
	prefix_ok(AT, "192.168.1.0/24", 4, 24, "192.168.1.0/24");
	prefix_ok(AT, "255.255.255.254/31", 4, 31, "255.255.255.254/31");
	prefix_ok(AT, "255.255.255.255", 4, 32, "255.255.255.255");
	prefix_ok(AT, "fd00::/64", 6, 64, "fd00::/64");
	prefix_ok(AT, "FD00:0:0:0::/64", 6, 64, "fd00::/64");
	prefix_ok(AT, "::/0", 6, 0, "::/0");
	prefix_ok(AT, "::1", 6, 128, "::1");
	prefix_ok(AT, "2001:db8::1/128", 6, 128, "2001:db8::1");
	prefix_ok(AT, "2001:0db8:0000:0000:0000:0000:0000:0000/32", 6, 32, "2001:db8::/32");
	prefix_ok(AT, "fe80::/10", 6, 10, "fe80::/10");
	prefix_ok(AT, "8000::/1", 6, 1, "8000::/1");
	prefix_ok(AT, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127", 6, 127,
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	prefix_ok(AT, "::ffff:10.0.0.1", 6, 128, "::ffff:10.0.0.1");
	/* The longest text an IPv6 address can have (45 bytes) still fits. */
	prefix_ok(AT, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", 6, 128,
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");

	prefix_bad(AT, "10.0.0.0/33");
	prefix_bad(AT, "10.0.0.0/99");
	prefix_bad(AT, "::/129");
	prefix_bad(AT, "fd00::/200");
	prefix_bad(AT, "10.0.0.0/-1");
	prefix_bad(AT, "::/-1");
	prefix_bad(AT, "10.0.0.0/abc");
	prefix_bad(AT, "10.0.0.0/8a");
	prefix_bad(AT, "10.0.0.0/+8");
	prefix_bad(AT, "10.0.0.0/");
	prefix_bad(AT, "10.0.0.0/8/8");
	prefix_bad(AT, "10.0.0.0/0x8");
	prefix_bad(AT, "10.0.0.0/4294967304"); /* 2^32 + 8: no wrap-around to /8 */
	prefix_bad(AT, "10.0.0.0/99999999999999999999999");
	prefix_bad(AT, "");
	prefix_bad(AT, "/");
	prefix_bad(AT, "/8");
	prefix_bad(AT, "10.0.0.1/8"); /* host bits set */
	prefix_bad(AT, "10.0.0.64/25");
	prefix_bad(AT, "10.0.1.0/23");
	prefix_bad(AT, "0.0.0.1/0");
	prefix_bad(AT, "10.1.2.3/31");
	prefix_bad(AT, "fd00::1/64");
	prefix_bad(AT, "::1/127");
	prefix_bad(AT, "8000::/0");
	prefix_bad(AT, "garbage");
	prefix_bad(AT, "10.0.0");
	prefix_bad(AT, "10.0.0.0.0");
	prefix_bad(AT, "256.0.0.0");
	prefix_bad(AT, "10.0.0.-1");
	prefix_bad(AT, "0x0a000000");
	prefix_bad(AT, "fd00:::/64");
	prefix_bad(AT, "fe80::1%lo");
	prefix_bad(AT, " 10.0.0.0/8");
	prefix_bad(AT, "10.0.0.0/8 ");
	prefix_bad(AT, "10.0.0.0 /8");
	prefix_bad(AT, "10.0.0.0/ 8");
	prefix_bad(AT, "10.0.0.0\t");
	prefix_bad(AT, "10.0.0.0\n");
	prefix_bad(AT, " ::1");
	prefix_bad(AT, "::1 ");
	/* One byte past the longest IPv6 text, and far past it. */
	prefix_bad(AT, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555/128");
	memset(longbuf, '1', sizeof(longbuf) - 1);
	longbuf[sizeof(longbuf) - 1] = '\0';
	prefix_bad(AT, longbuf);
	longbuf[1000] = '/';
	longbuf[1001] = '8';
	longbuf[1002] = '\0';
	prefix_bad(AT, longbuf);
	memcpy(longbuf, "10.0.0.0/", 9); /* plen of ~990 digits */
	prefix_bad(AT, longbuf);
}

/* ---- ports ---- */

static void ports_ok(const char *file, int line, const char *text, unsigned lo, unsigned hi,
		     const char *canon)
{
	struct sl_port_range r = { 1234, 4321 }, again;
	struct sl_err err = { 0 };
	char buf[32];
	int rc;

	rc = sl_parse_port_range(text, &r, &err);
	if (!ut_check(rc == 0, file, line, "sl_parse_port_range('%s') = %d (%s), want 0", text, rc,
		      err.msg))
		return;
	ut_check(r.lo == lo && r.hi == hi, file, line, "'%s' -> %u-%u, want %u-%u", text, r.lo,
		 r.hi, lo, hi);
	sl_format_port_range(&r, buf, sizeof(buf));
	ut_check(!strcmp(buf, canon), file, line, "format('%s') = '%s', want '%s'", text, buf,
		 canon);
	rc = sl_parse_port_range(buf, &again, &err);
	ut_check(rc == 0 && again.lo == r.lo && again.hi == r.hi, file, line,
		 "'%s' does not parse back to the same range", buf);
}

static void ports_bad(const char *file, int line, const char *text)
{
	struct sl_port_range r;
	struct sl_err err = { 0 };

	check_refusal(file, line, "sl_parse_port_range", text, sl_parse_port_range(text, &r, &err),
		      &err);
}

static void test_ports(void)
{
	ports_ok(AT, "0", 0, 0, "0");
	ports_ok(AT, "1", 1, 1, "1");
	ports_ok(AT, "80", 80, 80, "80");
	ports_ok(AT, "65535", 65535, 65535, "65535");
	ports_ok(AT, "80-90", 80, 90, "80-90");
	ports_ok(AT, "80-80", 80, 80, "80");
	ports_ok(AT, "0-65535", 0, 65535, "0-65535");
	ports_ok(AT, "1024-65535", 1024, 65535, "1024-65535");
	ports_ok(AT, "0-0", 0, 0, "0");
	ports_ok(AT, "65535-65535", 65535, 65535, "65535");

	ports_bad(AT, "65536");
	ports_bad(AT, "99999");
	ports_bad(AT, "1-65536");
	ports_bad(AT, "65536-65537");
	ports_bad(AT, "99999999999999999999999");
	ports_bad(AT, "1-99999999999999999999999");
	ports_bad(AT, "90-80");
	ports_bad(AT, "65535-0");
	ports_bad(AT, "-5");
	ports_bad(AT, "5-");
	ports_bad(AT, "-");
	ports_bad(AT, "--");
	ports_bad(AT, "a");
	ports_bad(AT, "80a");
	ports_bad(AT, "0x50");
	ports_bad(AT, "5.0");
	ports_bad(AT, "1-2-3");
	ports_bad(AT, "1--3");
	ports_bad(AT, "");
	ports_bad(AT, " 5");
	ports_bad(AT, "5 ");
	ports_bad(AT, "5 -6");
	ports_bad(AT, "5- 6");
	ports_bad(AT, "5-6 ");
	ports_bad(AT, "5\n");
	ports_bad(AT, "\t5");
	ports_bad(AT, "+5");
	ports_bad(AT, "5-+6");
	ports_bad(AT, "5--6");
	ports_bad(AT, "http");
}

/* ---- protocols ---- */

static void proto_ok(const char *file, int line, const char *text, int num)
{
	struct sl_err err = { 0 };
	uint8_t p = 0xaa;
	int rc = sl_parse_proto(text, &p, &err);

	ut_check(rc == 0 && p == num, file, line, "sl_parse_proto('%s') = %d, proto %u, want %d",
		 text, rc, p, num);
}

static void proto_bad(const char *file, int line, const char *text)
{
	struct sl_err err = { 0 };
	uint8_t p;

	check_refusal(file, line, "sl_parse_proto", text, sl_parse_proto(text, &p, &err), &err);
}

static void test_proto(void)
{
	static const struct {
		const char *name;
		int num;
	} names[] = { { "icmp", 1 }, { "tcp", 6 },     { "udp", 17 },
		      { "icmpv6", 58 }, { "sctp", 132 }, { "udplite", 136 } };
	char buf[16];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char upper[16];

		proto_ok(AT, names[i].name, names[i].num);
		for (size_t j = 0; j <= strlen(names[i].name); j++)
			upper[j] = (char)(names[i].name[j] >= 'a' && names[i].name[j] <= 'z'
						  ? names[i].name[j] - 32
						  : names[i].name[j]);
		proto_ok(AT, upper, names[i].num);
		CHECK_STR(sl_proto_name((uint8_t)names[i].num), names[i].name);
	}
	proto_ok(AT, "Tcp", 6);
	proto_ok(AT, "ICMPv6", 58);
	proto_ok(AT, "UdpLite", 136);
	proto_ok(AT, "0", 0);
	proto_ok(AT, "47", 47);
	proto_ok(AT, "255", 255);
	proto_ok(AT, "6", 6);

	proto_bad(AT, "256");
	proto_bad(AT, "1000");
	proto_bad(AT, "99999999999999999999999");
	proto_bad(AT, "-1");
	proto_bad(AT, "+6");
	proto_bad(AT, "0x6");
	proto_bad(AT, "6a");
	proto_bad(AT, "");
	proto_bad(AT, " tcp");
	proto_bad(AT, "tcp ");
	proto_bad(AT, " 6");
	proto_bad(AT, "6 ");
	proto_bad(AT, "tcp6");
	proto_bad(AT, "ip");
	proto_bad(AT, "icmp6");
	proto_bad(AT, "udp-lite");

	CHECK(sl_proto_name(0) == NULL);
	CHECK(sl_proto_name(47) == NULL);
	CHECK(sl_proto_name(255) == NULL);

	/* Listing prints the name when there is one, else the number: both parse back. */
	for (int n = 0; n < 256; n++) {
		const char *name = sl_proto_name((uint8_t)n);
		struct sl_err err = { 0 };
		uint8_t back = 0;
		int rc;

		if (name)
			snprintf(buf, sizeof(buf), "%s", name);
		else
			snprintf(buf, sizeof(buf), "%d", n);
		rc = sl_parse_proto(buf, &back, &err);
		CHECK_MSG(rc == 0 && back == n, "proto %d printed as '%s' parses to %u (rc %d)", n,
			  buf, back, rc);
	}
}

/* ---- ether types ---- */

static void etype_ok(const char *file, int line, const char *text, unsigned num)
{
	struct sl_err err = { 0 };
	uint16_t t = 0x1234;
	int rc = sl_parse_ether_type(text, &t, &err);

	ut_check(rc == 0 && t == num, file, line,
		 "sl_parse_ether_type('%s') = %d, type 0x%04x, want 0x%04x", text, rc, t, num);
}

static void etype_bad(const char *file, int line, const char *text)
{
	struct sl_err err = { 0 };
	uint16_t t;

	check_refusal(file, line, "sl_parse_ether_type", text, sl_parse_ether_type(text, &t, &err),
		      &err);
}

static void test_ether_type(void)
{
	unsigned long bad = 0;

	etype_ok(AT, "arp", 0x0806);
	etype_ok(AT, "ARP", 0x0806);
	etype_ok(AT, "ipv4", 0x0800);
	etype_ok(AT, "IPv4", 0x0800);
	etype_ok(AT, "ipv6", 0x86dd);
	etype_ok(AT, "IPV6", 0x86dd);
	etype_ok(AT, "0x0800", 0x0800);
	etype_ok(AT, "0x86dd", 0x86dd);
	etype_ok(AT, "0x86DD", 0x86dd);
	etype_ok(AT, "0X86dd", 0x86dd);
	etype_ok(AT, "0x0806", 0x0806);
	etype_ok(AT, "0x88cc", 0x88cc);
	etype_ok(AT, "0x600", 0x0600);
	etype_ok(AT, "0x0600", 0x0600);
	etype_ok(AT, "0xffff", 0xffff);

	etype_bad(AT, "0x05ff");
	etype_bad(AT, "0x0000");
	etype_bad(AT, "0x10000");
	etype_bad(AT, "0xffffffffffffffffffffffff");
	etype_bad(AT, "0x");
	etype_bad(AT, "0X");
	etype_bad(AT, "0xzz");
	etype_bad(AT, "0x08zz");
	etype_bad(AT, "");
	etype_bad(AT, "2048");
	etype_bad(AT, "x0800");
	etype_bad(AT, "ip");
	etype_bad(AT, "ipv5");
	etype_bad(AT, " arp");
	etype_bad(AT, "arp ");
	etype_bad(AT, " 0x0800");
	etype_bad(AT, "0x0800 ");
	/*
	 * The spelling is 0xHHHH: hex digits right after the 0x. strtoul would
	 * otherwise skip blanks, take a sign or a second 0x prefix.
	 */
	etype_bad(AT, "0x 0800");
	etype_bad(AT, "0x\t0800");
	etype_bad(AT, "0x+0800");
	etype_bad(AT, "0x-0800");
	etype_bad(AT, "0x0x0800");

	CHECK_STR(sl_ether_type_name(0x0806), "arp");
	CHECK_STR(sl_ether_type_name(0x0800), "ipv4");
	CHECK_STR(sl_ether_type_name(0x86dd), "ipv6");
	CHECK(sl_ether_type_name(0x88cc) == NULL);
	CHECK(sl_ether_type_name(0x0608) == NULL); /* byte-swapped arp is not arp */

	/* Listing prints the name or 0x%04x; every valid type comes back unchanged. */
	for (unsigned t = 0x0600; t <= 0xffff; t++) {
		const char *name = sl_ether_type_name((uint16_t)t);
		struct sl_err err = { 0 };
		uint16_t back = 0;
		char buf[16];
		int rc;

		if (name)
			snprintf(buf, sizeof(buf), "%s", name);
		else
			snprintf(buf, sizeof(buf), "0x%04x", t);
		rc = sl_parse_ether_type(buf, &back, &err);
		/* One tally for the whole sweep, not 64k lines of passes. */
		if (rc || back != t) {
			CHECK_MSG(rc == 0 && back == t, "0x%04x printed as '%s' parses to 0x%04x",
				  t, buf, back);
			bad++;
		}
	}
	CHECK_INT(bad, ==, 0);
}

/* ---- validation ---- */

/* Builds a match from text fields, through the parsers tested above; NULL = unset. */
struct fields {
	const char *src, *dst, *proto, *sport, *dport, *ether_type;
};

static void setup_fail(const char *text, const struct sl_err *err)
{
	fprintf(stderr, "test setup: '%s': %s\n", text, err->msg);
	abort();
}

static struct sl_match make_match(const struct fields *f)
{
	struct sl_err err = { 0 };
	struct sl_match m;

	memset(&m, 0, sizeof(m));
	if ((m.has_src = f->src) && sl_parse_prefix(f->src, &m.src, &err))
		setup_fail(f->src, &err);
	if ((m.has_dst = f->dst) && sl_parse_prefix(f->dst, &m.dst, &err))
		setup_fail(f->dst, &err);
	if ((m.has_proto = f->proto) && sl_parse_proto(f->proto, &m.proto, &err))
		setup_fail(f->proto, &err);
	if ((m.has_sport = f->sport) && sl_parse_port_range(f->sport, &m.sport, &err))
		setup_fail(f->sport, &err);
	if ((m.has_dport = f->dport) && sl_parse_port_range(f->dport, &m.dport, &err))
		setup_fail(f->dport, &err);
	if ((m.has_ether_type = f->ether_type) &&
	    sl_parse_ether_type(f->ether_type, &m.ether_type, &err))
		setup_fail(f->ether_type, &err);
	return m;
}

static void valid(const char *file, int line, struct fields f)
{
	struct sl_match m = make_match(&f);
	struct sl_err err = { 0 };
	int rc = sl_match_validate(&m, &err);

	ut_check(rc == 0, file, line, "valid match refused: %d (%s)", rc, err.msg);
}

static void invalid(const char *file, int line, struct fields f)
{
	struct sl_match m = make_match(&f);
	struct sl_err err = { 0 };

	check_refusal(file, line, "sl_match_validate", "match", sl_match_validate(&m, &err), &err);
}

static void test_validate(void)
{
	valid(AT, (struct fields){ .src = "10.0.0.0/8" });
	valid(AT, (struct fields){ .dst = "fd00::/64" });
	valid(AT, (struct fields){ .src = "10.0.0.0/8", .dst = "192.168.0.1" });
	valid(AT, (struct fields){ .src = "fd00::/64", .dst = "::1" });
	valid(AT, (struct fields){ .proto = "tcp" });
	valid(AT, (struct fields){ .proto = "47" });
	valid(AT, (struct fields){ .proto = "0" });
	valid(AT, (struct fields){ .proto = "tcp", .dport = "80" });
	valid(AT, (struct fields){ .proto = "udp", .sport = "53", .dport = "1024-65535" });
	valid(AT, (struct fields){ .proto = "sctp", .dport = "0-65535" });
	valid(AT, (struct fields){ .proto = "udplite", .sport = "1-2" });
	valid(AT, (struct fields){ .proto = "icmp" });
	valid(AT, (struct fields){ .proto = "icmp", .src = "10.0.0.0/8" });
	valid(AT, (struct fields){ .proto = "icmpv6" });
	valid(AT, (struct fields){ .proto = "icmpv6", .dst = "fd00::/64" });
	valid(AT, (struct fields){ .proto = "tcp", .src = "fd00::/64", .dport = "22" });
	valid(AT, (struct fields){ .ether_type = "arp" });
	valid(AT, (struct fields){ .ether_type = "0x88cc" });
	valid(AT, (struct fields){ .ether_type = "ipv4" });
	valid(AT, (struct fields){ .ether_type = "ipv6" });
	valid(AT, (struct fields){ .ether_type = "ipv4", .src = "10.0.0.0/8" });
	valid(AT, (struct fields){ .ether_type = "ipv6", .proto = "icmpv6" });
	valid(AT, (struct fields){ .ether_type = "ipv4", .proto = "icmp" });
	valid(AT, (struct fields){ .ether_type = "ipv4", .proto = "tcp", .dport = "80-90" });
	valid(AT, (struct fields){ .ether_type = "ipv6", .proto = "udp" });

	invalid(AT, (struct fields){ 0 });
	invalid(AT, (struct fields){ .src = "10.0.0.0/8", .dst = "fd00::/64" });
	invalid(AT, (struct fields){ .src = "fd00::/64", .dst = "10.0.0.1" });
	invalid(AT, (struct fields){ .proto = "icmp", .src = "fd00::/64" });
	invalid(AT, (struct fields){ .proto = "icmp", .dst = "::1" });
	invalid(AT, (struct fields){ .proto = "icmpv6", .src = "10.0.0.0/8" });
	invalid(AT, (struct fields){ .proto = "icmpv6", .dst = "10.0.0.1" });
	invalid(AT, (struct fields){ .sport = "80" });
	invalid(AT, (struct fields){ .dport = "80" });
	invalid(AT, (struct fields){ .dport = "80", .src = "10.0.0.0/8" });
	invalid(AT, (struct fields){ .proto = "icmp", .dport = "80" });
	invalid(AT, (struct fields){ .proto = "icmp", .sport = "80" });
	invalid(AT, (struct fields){ .proto = "icmpv6", .dport = "80" });
	invalid(AT, (struct fields){ .proto = "47", .dport = "80" });
	invalid(AT, (struct fields){ .proto = "0", .sport = "0-65535" });
	invalid(AT, (struct fields){ .ether_type = "arp", .src = "10.0.0.0/8" });
	invalid(AT, (struct fields){ .ether_type = "arp", .dst = "fd00::/64" });
	invalid(AT, (struct fields){ .ether_type = "arp", .proto = "tcp" });
	invalid(AT, (struct fields){ .ether_type = "0x88cc", .proto = "udp" });
	invalid(AT, (struct fields){ .ether_type = "ipv4", .src = "fd00::/64" });
	invalid(AT, (struct fields){ .ether_type = "ipv4", .dst = "::1" });
	invalid(AT, (struct fields){ .ether_type = "ipv4", .proto = "icmpv6" });
	invalid(AT, (struct fields){ .ether_type = "ipv6", .src = "10.0.0.0/8" });
	invalid(AT, (struct fields){ .ether_type = "ipv6", .proto = "icmp" });
}

int main(void)
{
	test_prefix();
	test_ports();
	test_proto();
	test_ether_type();
	test_validate();
	return ut_summary();
}
