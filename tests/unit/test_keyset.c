// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Port block splitting and rule expansion into classifier entries. The
 * datapath drops exactly what these entries cover, so a missing block lets
 * packets through and an extra one drops packets nobody asked to drop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyset.h"
#include "unit_check.h"

#define AT __FILE__, __LINE__

/* Room beyond the documented 32, so an overrun shows as a count, not a crash. */
#define BLOCKS_ROOM 64

/* ---- port blocks ---- */

/* The fewest aligned blocks, by walking the binary trie of the port space. */
static unsigned min_blocks(uint32_t base, uint32_t size, uint32_t lo, uint32_t hi)
{
	uint32_t end = base + size - 1;

	if (end < lo || base > hi)
		return 0;
	if (lo <= base && end <= hi)
		return 1;
	return min_blocks(base, size / 2, lo, hi) + min_blocks(base + size / 2, size / 2, lo, hi);
}

static uint8_t covered[65536];

/* Returns whether [lo, hi] split correctly; reports the first problem only. */
static bool check_blocks(uint32_t lo, uint32_t hi)
{
	struct sl_port_range r = { (uint16_t)lo, (uint16_t)hi };
	struct sl_port_block blk[BLOCKS_ROOM];
	uint64_t total = 0;
	bool ok = true;
	size_t n;

	memset(blk, 0xa5, sizeof(blk));
	n = sl_port_blocks(&r, blk);
	if (!CHECK_QUIET(n >= 1 && n <= 32, "%u-%u: %zu blocks", lo, hi, n))
		return false;

	for (size_t i = 0; i < n && ok; i++) {
		uint32_t size = (~(uint32_t)blk[i].mask & 0xffff) + 1;

		/* A prefix mask: high ones then low zeros, i.e. a power-of-two block. */
		ok = CHECK_QUIET((size & (size - 1)) == 0 && ((0x10000 - size) & 0xffff) == blk[i].mask,
			       "%u-%u: block %zu mask 0x%04x is not a prefix mask", lo, hi, i,
			       blk[i].mask);
		if (!ok)
			break;
		ok = CHECK_QUIET((blk[i].value & ~blk[i].mask & 0xffff) == 0,
			       "%u-%u: block %zu value 0x%04x not aligned to mask 0x%04x", lo, hi,
			       i, blk[i].value, blk[i].mask);
		if (!ok)
			break;
		for (uint32_t p = blk[i].value; p < blk[i].value + size; p++)
			covered[p]++;
		total += size;
	}
	if (ok) {
		/* Each port once and exactly hi-lo+1 ports in all: nothing outside either. */
		for (uint32_t p = lo; p <= hi && ok; p++)
			ok = CHECK_QUIET(covered[p] == 1, "%u-%u: port %u covered %u times", lo, hi, p,
				       covered[p]);
		if (ok)
			ok = CHECK_QUIET(total == hi - lo + 1, "%u-%u: blocks cover %llu ports", lo,
				       hi, (unsigned long long)total);
		if (ok && lo > 0)
			ok = CHECK_QUIET(covered[lo - 1] == 0, "%u-%u: port %u below covered", lo,
				       hi, lo - 1);
		if (ok && hi < 65535)
			ok = CHECK_QUIET(covered[hi + 1] == 0, "%u-%u: port %u above covered", lo,
				       hi, hi + 1);
		if (ok)
			ok = CHECK_QUIET(n == min_blocks(0, 65536, lo, hi),
				       "%u-%u: %zu blocks, the fewest is %u", lo, hi, n,
				       min_blocks(0, 65536, lo, hi));
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t size = (~(uint32_t)blk[i].mask & 0xffff) + 1;

		for (uint32_t p = blk[i].value; p < blk[i].value + size && p < 65536; p++)
			covered[p] = 0;
	}
	return ok;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: a fixed seed makes every run check the same ranges. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static void test_port_blocks(void)
{
	static const uint32_t edges[][2] = {
		{ 0, 65535 },	  { 1, 65535 },	    { 0, 0 },	      { 65535, 65535 },
		{ 1024, 65535 },  { 0, 65534 },	    { 1, 65534 },     { 32767, 32768 },
		{ 32768, 65535 }, { 0, 32767 },	    { 1, 1 },	      { 80, 80 },
		{ 80, 90 },	  { 1000, 2000 },   { 49152, 65535 }, { 65534, 65535 },
		{ 2, 65533 },	  { 32767, 32767 },
	};
	struct sl_port_range r;
	struct sl_port_block blk[BLOCKS_ROOM];
	unsigned long bad = 0, ranges = 0;

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++, ranges++)
		bad += !check_blocks(edges[i][0], edges[i][1]);

	/* Exact expectations for a few, independent of the oracle. */
	r = (struct sl_port_range){ 0, 65535 };
	CHECK_INT(sl_port_blocks(&r, blk), ==, 1);
	CHECK_UINT(blk[0].value, ==, 0);
	CHECK_UINT(blk[0].mask, ==, 0);
	r = (struct sl_port_range){ 65535, 65535 };
	CHECK_INT(sl_port_blocks(&r, blk), ==, 1);
	CHECK_UINT(blk[0].value, ==, 65535);
	CHECK_UINT(blk[0].mask, ==, 0xffff);
	r = (struct sl_port_range){ 1024, 65535 };
	CHECK_INT(sl_port_blocks(&r, blk), ==, 6); /* 1024, 2048, 4096, ... 32768 */
	r = (struct sl_port_range){ 1, 65534 };
	CHECK_INT(sl_port_blocks(&r, blk), ==, 30); /* the worst case: 2 x 15 */
	r = (struct sl_port_range){ 80, 90 };
	CHECK_INT(sl_port_blocks(&r, blk), ==, 3); /* 80/13, 88/15, 90/16 */

	/* Every range within [0, 300] and within [65235, 65535]. */
	for (uint32_t base = 0; base <= 65235; base += 65235) {
		for (uint32_t lo = base; lo <= base + 300; lo++)
			for (uint32_t hi = lo; hi <= base + 300; hi++, ranges++)
				bad += !check_blocks(lo, hi);
	}
	/* Random ranges over the whole space, and short ones at random places. */
	for (int i = 0; i < 2000; i++, ranges++) {
		uint32_t a = (uint32_t)(rnd() & 0xffff), b = (uint32_t)(rnd() & 0xffff);

		bad += !check_blocks(a < b ? a : b, a < b ? b : a);
	}
	for (int i = 0; i < 20000; i++, ranges++) {
		uint32_t a = (uint32_t)(rnd() & 0xffff), len = (uint32_t)(rnd() % 2048);
		uint32_t b = a + len > 65535 ? 65535 : a + len;

		bad += !check_blocks(a, b);
	}
	CHECK_MSG(bad == 0, "%lu of %lu ranges split wrongly", bad, ranges);
}

/* ---- expansion ---- */

static struct sl_prefix pfx(const char *text)
{
	struct sl_err err = { 0 };
	struct sl_prefix p;

	if (sl_parse_prefix(text, &p, &err)) {
		fprintf(stderr, "test setup: '%s': %s\n", text, err.msg);
		abort();
	}
	return p;
}

static uint32_t mask_word(int plen, int word)
{
	int bits = plen - word * 32;

	if (bits >= 32)
		return 0xffffffffu;
	if (bits <= 0)
		return 0;
	return 0xffffffffu << (32 - bits);
}

/* The invariants every entry of every rule must keep. */
static void check_entry_shape(const char *file, int line, const struct sl_entry *e)
{
	const struct sl_shape *s = &e->shape;
	const struct sl_key *k = &e->key;
	bool masked = true;

	for (int i = 0; i < 4; i++)
		masked &= !(k->src[i] & ~s->src_mask[i]) && !(k->dst[i] & ~s->dst_mask[i]);
	masked &= !(k->proto & ~s->proto_mask) && !(k->ether_type & ~s->ether_type_mask) &&
		  !(k->sport & ~s->sport_mask) && !(k->dport & ~s->dport_mask);
	ut_check(masked, file, line, "entry key has bits outside its shape's masks");
	ut_check(k->shape == 0, file, line, "key.shape %u before a slot is given", k->shape);
	/* A shape that matches the protocol carries it, so packets of others skip it. */
	ut_check(s->proto_mask ? s->proto == k->proto : s->proto == 0, file, line,
		 "shape proto %u, key proto %u, mask 0x%x", s->proto, k->proto, s->proto_mask);
	ut_check(s->family == SL_FAMILY_ANY || s->family == SL_FAMILY_IPV4 ||
			 s->family == SL_FAMILY_IPV6,
		 file, line, "family %u", s->family);
	/* IPv4 keys live in word 0 only. */
	if (s->family == SL_FAMILY_IPV4)
		ut_check(!s->src_mask[1] && !s->src_mask[2] && !s->src_mask[3] && !s->dst_mask[1] &&
				 !s->dst_mask[2] && !s->dst_mask[3],
			 file, line, "IPv4 shape with masks beyond word 0");
}

static int expand(const char *file, int line, const struct sl_match *m, struct sl_entry **out)
{
	struct sl_err err = { 0 };
	int n;

	*out = NULL;
	n = sl_keyset_expand(m, out, &err);
	if (!ut_check(n > 0 && *out, file, line, "sl_keyset_expand = %d (%s)", n, err.msg)) {
		free(*out);
		*out = NULL;
		return n;
	}
	ut_check(n <= SL_MAX_ENTRIES_PER_RULE, file, line, "%d entries, above the bound", n);
	for (int i = 0; i < n; i++)
		check_entry_shape(file, line, &(*out)[i]);
	return n;
}

static bool no_ports(const struct sl_shape *s)
{
	return !s->sport_mask && !s->dport_mask && !s->needs_ports;
}

static void src_v4(const char *file, int line, const char *text, int plen)
{
	struct sl_match m = { .has_src = true, .src = pfx(text) };
	struct sl_entry *e;
	uint32_t addr;
	int n = expand(file, line, &m, &e);

	if (!e)
		return;
	ut_check(n == 1, file, line, "%s: %d entries, want 1", text, n);
	ut_check(e->shape.family == SL_FAMILY_IPV4, file, line, "%s: family %u", text,
		 e->shape.family);
	for (int w = 0; w < 4; w++)
		ut_check(e->shape.src_mask[w] == htonl(mask_word(plen, w)), file, line,
			 "%s: src_mask[%d] = %08x, want %08x (network order)", text, w,
			 ntohl(e->shape.src_mask[w]), mask_word(plen, w));
	memcpy(&addr, m.src.addr, 4);
	ut_check(e->key.src[0] == addr && !e->key.src[1] && !e->key.src[2] && !e->key.src[3],
		 file, line, "%s: key address wrong", text);
	ut_check(!e->shape.dst_mask[0] && !e->shape.proto_mask && !e->shape.ether_type_mask &&
			 no_ports(&e->shape),
		 file, line, "%s: fields other than src are masked in", text);
	free(e);
}

static void src_v6(const char *file, int line, const char *text, int plen, bool as_dst)
{
	struct sl_match m = { 0 };
	struct sl_entry *e;
	const __be32 *mask, *key, *other;
	int n;

	if (as_dst) {
		m.has_dst = true;
		m.dst = pfx(text);
	} else {
		m.has_src = true;
		m.src = pfx(text);
	}
	n = expand(file, line, &m, &e);
	if (!e)
		return;
	mask = as_dst ? e->shape.dst_mask : e->shape.src_mask;
	other = as_dst ? e->shape.src_mask : e->shape.dst_mask;
	key = as_dst ? e->key.dst : e->key.src;
	ut_check(n == 1, file, line, "%s: %d entries, want 1", text, n);
	ut_check(e->shape.family == SL_FAMILY_IPV6, file, line, "%s: family %u", text,
		 e->shape.family);
	for (int w = 0; w < 4; w++) {
		ut_check(mask[w] == htonl(mask_word(plen, w)), file, line,
			 "%s: mask[%d] = %08x, want %08x", text, w, ntohl(mask[w]),
			 mask_word(plen, w));
		ut_check(!other[w], file, line, "%s: the other address is masked in", text);
	}
	ut_check(!memcmp(key, as_dst ? m.dst.addr : m.src.addr, 16), file, line,
		 "%s: key address wrong", text);
	free(e);
}

/* Entries whose family is fam; families must be each present once per port pair. */
static int count_family(const struct sl_entry *e, int n, int fam)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += e[i].shape.family == fam;
	return c;
}

/*
 * Checks that the entries are exactly families x sport blocks x dport blocks,
 * each combination once.
 */
static void check_cross(const char *file, int line, const struct sl_match *m,
			const uint8_t *fams, int nfam)
{
	static const struct sl_port_range any = { 0, 65535 };
	struct sl_port_block sb[BLOCKS_ROOM], db[BLOCKS_ROOM];
	size_t ns = sl_port_blocks(m->has_sport ? &m->sport : &any, sb);
	size_t nd = sl_port_blocks(m->has_dport ? &m->dport : &any, db);
	struct sl_entry *e;
	int n = expand(file, line, m, &e);
	uint8_t *seen;

	if (!e)
		return;
	if (!ut_check((size_t)n == nfam * ns * nd, file, line, "%d entries, want %d x %zu x %zu",
		      n, nfam, ns, nd)) {
		free(e);
		return;
	}
	seen = calloc((size_t)n, 1);
	for (int i = 0; i < n; i++) {
		const struct sl_entry *x = &e[i];
		int f, si = -1, di = -1;

		for (f = 0; f < nfam && fams[f] != x->shape.family; f++)
			;
		for (size_t j = 0; j < ns; j++)
			if (htons(sb[j].mask) == x->shape.sport_mask && htons(sb[j].value) == x->key.sport)
				si = (int)j;
		for (size_t j = 0; j < nd; j++)
			if (htons(db[j].mask) == x->shape.dport_mask && htons(db[j].value) == x->key.dport)
				di = (int)j;
		if (!ut_check(f < nfam && si >= 0 && di >= 0, file, line,
			      "entry %d (family %u sport %04x/%04x dport %04x/%04x) is no combination",
			      i, x->shape.family, ntohs(x->key.sport), ntohs(x->shape.sport_mask),
			      ntohs(x->key.dport), ntohs(x->shape.dport_mask)))
			continue;
		ut_check(!seen[((size_t)f * ns + (size_t)si) * nd + (size_t)di]++, file, line,
			 "entry %d repeats a combination", i);
		ut_check(x->shape.needs_ports == (m->has_sport || m->has_dport), file, line,
			 "entry %d needs_ports %u", i, x->shape.needs_ports);
		ut_check(x->shape.proto_mask == (m->has_proto ? 0xff : 0) && x->key.proto == m->proto,
			 file, line, "entry %d proto %u/%02x", i, x->key.proto, x->shape.proto_mask);
	}
	free(seen);
	free(e);
}

static void test_expand(void)
{
	static const uint8_t v4[] = { SL_FAMILY_IPV4 }, v6[] = { SL_FAMILY_IPV6 },
			     both[] = { SL_FAMILY_IPV4, SL_FAMILY_IPV6 };
	struct sl_entry *e;
	struct sl_match m;
	struct sl_err err;
	int n;

	src_v4(AT, "0.0.0.0/0", 0);
	src_v4(AT, "128.0.0.0/1", 1);
	src_v4(AT, "10.0.0.0/8", 8);
	src_v4(AT, "192.168.7.0/24", 24);
	src_v4(AT, "10.9.8.6/31", 31);
	src_v4(AT, "10.9.8.7/32", 32);
	src_v4(AT, "10.9.8.7", 32);
	src_v6(AT, "::/0", 0, false);
	src_v6(AT, "2001:db8::/33", 33, false);
	src_v6(AT, "fd00:1:2:3::/64", 64, false);
	src_v6(AT, "fd00::/64", 64, true);
	src_v6(AT, "fd00::2/127", 127, false);
	src_v6(AT, "fd00::1/128", 128, false);
	src_v6(AT, "fd00::1", 128, true);

	/* dst alone: dst masks, src masks zero. */
	m = (struct sl_match){ .has_dst = true, .dst = pfx("192.168.1.0/24") };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV4);
		CHECK_UINT(e->shape.dst_mask[0], ==, htonl(0xffffff00));
		CHECK_UINT(e->shape.src_mask[0], ==, 0);
		CHECK_UINT(e->key.dst[0], ==, htonl(0xc0a80100));
		free(e);
	}

	/* A protocol with no address lives in both families. */
	m = (struct sl_match){ .has_proto = true, .proto = 6 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 2);
		CHECK_INT(count_family(e, n, SL_FAMILY_IPV4), ==, 1);
		CHECK_INT(count_family(e, n, SL_FAMILY_IPV6), ==, 1);
		for (int i = 0; i < n; i++) {
			CHECK_UINT(e[i].shape.proto_mask, ==, 0xff);
			CHECK_UINT(e[i].key.proto, ==, 6);
			CHECK(no_ports(&e[i].shape));
			CHECK(!e[i].shape.src_mask[0] && !e[i].shape.dst_mask[0]);
			CHECK_UINT(e[i].shape.ether_type_mask, ==, 0);
		}
		free(e);
	}
	m = (struct sl_match){ .has_proto = true, .proto = 1 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV4);
		CHECK_UINT(e->key.proto, ==, 1);
		free(e);
	}
	m = (struct sl_match){ .has_proto = true, .proto = 58 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV6);
		CHECK_UINT(e->key.proto, ==, 58);
		free(e);
	}
	/* An address picks the family even for a protocol of both. */
	m = (struct sl_match){ .has_src = true, .src = pfx("fd00::/8"), .has_proto = true,
			       .proto = 17 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV6);
		free(e);
	}

	/* Non-IP ether types match on the ether type in the family-less shapes. */
	m = (struct sl_match){ .has_ether_type = true, .ether_type = 0x0806 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_ANY);
		CHECK_UINT(e->shape.ether_type_mask, ==, 0xffff);
		CHECK_UINT(e->key.ether_type, ==, htons(0x0806));
		CHECK(no_ports(&e->shape) && !e->shape.proto_mask && !e->shape.src_mask[0]);
		free(e);
	}
	m = (struct sl_match){ .has_ether_type = true, .ether_type = 0x88cc };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_ANY);
		CHECK_UINT(e->key.ether_type, ==, htons(0x88cc));
		free(e);
	}
	/* IP ether types are the family itself: no ether type probe needed. */
	m = (struct sl_match){ .has_ether_type = true, .ether_type = 0x0800 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV4);
		free(e);
	}
	m = (struct sl_match){ .has_ether_type = true, .ether_type = 0x86dd, .has_proto = true,
			       .proto = 6 };
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 1);
		CHECK_INT(e->shape.family, ==, SL_FAMILY_IPV6);
		free(e);
	}

	/* Port ranges: one entry per block and family, cross products for both ports. */
	m = (struct sl_match){ .has_proto = true, .proto = 6, .has_dport = true,
			       .dport = { 80, 90 } };
	check_cross(AT, &m, both, 2);
	m = (struct sl_match){ .has_proto = true, .proto = 6, .has_dport = true,
			       .dport = { 443, 443 } };
	check_cross(AT, &m, both, 2);
	m = (struct sl_match){ .has_proto = true, .proto = 17, .has_dport = true,
			       .dport = { 1024, 65535 }, .has_src = true,
			       .src = pfx("10.0.0.0/8") };
	check_cross(AT, &m, v4, 1);
	m = (struct sl_match){ .has_proto = true, .proto = 132, .has_sport = true,
			       .sport = { 1000, 2000 }, .has_dport = true, .dport = { 1, 1023 },
			       .has_dst = true, .dst = pfx("fd00::/64") };
	check_cross(AT, &m, v6, 1);
	m = (struct sl_match){ .has_proto = true, .proto = 136, .has_sport = true,
			       .sport = { 7, 300 } };
	check_cross(AT, &m, both, 2);
	/* The largest rule there is: 2 families x 30 x 30. */
	m = (struct sl_match){ .has_proto = true, .proto = 6, .has_sport = true,
			       .sport = { 1, 65534 }, .has_dport = true, .dport = { 1, 65534 } };
	check_cross(AT, &m, both, 2);
	n = expand(AT, &m, &e);
	CHECK_INT(n, ==, SL_MAX_ENTRIES_PER_RULE);
	free(e);
	/*
	 * An explicit full range still needs a transport header: the protocol
	 * says port rules never match non-first fragments.
	 */
	m = (struct sl_match){ .has_proto = true, .proto = 6, .has_dport = true,
			       .dport = { 0, 65535 } };
	check_cross(AT, &m, both, 2);
	n = expand(AT, &m, &e);
	if (e) {
		CHECK_INT(n, ==, 2);
		CHECK(e[0].shape.needs_ports && e[1].shape.needs_ports);
		CHECK_UINT(e[0].shape.dport_mask, ==, 0);
		free(e);
	}

	/* Invalid matches are refused before anything is allocated. */
	memset(&m, 0, sizeof(m));
	memset(&err, 0, sizeof(err));
	e = (struct sl_entry *)&m; /* must not be touched */
	CHECK_INT(sl_keyset_expand(&m, &e, &err), ==, -EINVAL);
	CHECK_INT(err.code, ==, EINVAL);
	CHECK(e == (struct sl_entry *)&m);
	m = (struct sl_match){ .has_dport = true, .dport = { 1, 2 } };
	memset(&err, 0, sizeof(err));
	CHECK_INT(sl_keyset_expand(&m, &e, &err), ==, -EINVAL);
	CHECK(err.msg[0] != '\0');
}

/* ---- shape equality ---- */

static struct sl_shape shape_of(const struct sl_match *m, int idx)
{
	struct sl_entry *e;
	struct sl_err err = { 0 };
	struct sl_shape s;
	int n = sl_keyset_expand(m, &e, &err);

	if (n <= idx) {
		fprintf(stderr, "test setup: expansion gave %d entries: %s\n", n, err.msg);
		abort();
	}
	s = e[idx].shape;
	free(e);
	return s;
}

static void test_shape_equal(void)
{
	struct sl_match a8 = { .has_src = true, .src = pfx("10.0.0.0/8") };
	struct sl_match b8 = { .has_src = true, .src = pfx("11.0.0.0/8") };
	struct sl_match a16 = { .has_src = true, .src = pfx("10.1.0.0/16") };
	struct sl_match d8 = { .has_dst = true, .dst = pfx("10.0.0.0/8") };
	struct sl_match tcp = { .has_proto = true, .proto = 6 };
	struct sl_match udp = { .has_proto = true, .proto = 17 };
	struct sl_match tcp_any = { .has_proto = true, .proto = 6, .has_dport = true,
				    .dport = { 0, 65535 } };
	struct sl_match p80 = { .has_proto = true, .proto = 6, .has_dport = true,
				.dport = { 80, 80 } };
	struct sl_match p81 = { .has_proto = true, .proto = 17, .has_dport = true,
				.dport = { 81, 81 } };
	struct sl_match s80 = { .has_proto = true, .proto = 6, .has_sport = true,
				.sport = { 80, 80 } };
	struct sl_match arp = { .has_ether_type = true, .ether_type = 0x0806 };
	struct sl_match lldp = { .has_ether_type = true, .ether_type = 0x88cc };
	struct sl_shape x, y;

	x = shape_of(&a8, 0);
	y = shape_of(&b8, 0);
	CHECK(sl_shape_equal(&x, &x));
	CHECK(sl_shape_equal(&x, &y)); /* same prefix length, different addresses */
	CHECK(sl_shape_equal(&y, &x));
	y = shape_of(&a16, 0);
	CHECK(!sl_shape_equal(&x, &y));
	y = shape_of(&d8, 0);
	CHECK(!sl_shape_equal(&x, &y)); /* src /8 vs dst /8 */

	x = shape_of(&tcp, 0);
	y = shape_of(&udp, 0);
	CHECK(!sl_shape_equal(&x, &y)); /* the protocol is part of a shape */
	y = shape_of(&tcp, 1);
	CHECK(!sl_shape_equal(&x, &y)); /* IPv4 vs IPv6 */
	y = shape_of(&tcp_any, 0);
	CHECK(!sl_shape_equal(&x, &y)); /* same masks but one needs ports */
	x = shape_of(&p80, 0);
	y = shape_of(&p81, 0);
	CHECK(!sl_shape_equal(&x, &y)); /* tcp dport vs udp dport */
	p81.proto = 6;
	y = shape_of(&p81, 0);
	CHECK(sl_shape_equal(&x, &y)); /* tcp dport 80 vs tcp dport 81 */
	y = shape_of(&s80, 0);
	CHECK(!sl_shape_equal(&x, &y)); /* dport vs sport */
	x = shape_of(&arp, 0);
	y = shape_of(&lldp, 0);
	CHECK(sl_shape_equal(&x, &y));
	y = shape_of(&tcp, 0);
	CHECK(!sl_shape_equal(&x, &y));
}

/* ---- packet classes and mask keys, as the classifier uses them ---- */

static void test_shape_classes(void)
{
	struct sl_match p80 = { .has_proto = true, .proto = 6, .has_dport = true,
				.dport = { 80, 80 } };
	struct sl_match arp = { .has_ether_type = true, .ether_type = 0x0806 };
	struct sl_match a8 = { .has_src = true, .src = pfx("10.0.0.0/8") };
	struct sl_match udp = { .has_proto = true, .proto = 17 };
	struct sl_shape s;

	s = shape_of(&p80, 0); /* IPv4 */
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV4, true, 6));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV4, false, 6)); /* non-first fragment */
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV6, true, 6));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV4, true, 17));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV4, true, SL_PROTO_UNKNOWN));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_ANY, false, 0));

	s = shape_of(&arp, 0); /* any frame: the ether type in the key decides */
	CHECK(sl_shape_in_class(&s, SL_FAMILY_ANY, false, 0));
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV4, true, 6));
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV6, false, SL_PROTO_UNKNOWN));

	s = shape_of(&a8, 0); /* addresses only: every protocol, fragments too */
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV4, false, 1));
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV4, true, SL_PROTO_UNKNOWN));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV6, true, 6));

	s = shape_of(&udp, 1); /* IPv6 entry of a protocol-only rule */
	CHECK(sl_shape_in_class(&s, SL_FAMILY_IPV6, false, 17));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV6, false, SL_PROTO_UNKNOWN));
	CHECK(!sl_shape_in_class(&s, SL_FAMILY_IPV4, true, 17));

	/* Every class index is in range and distinct. */
	{
		static bool seen[SL_NCLASSES];
		static const uint8_t fams[] = { SL_FAMILY_ANY, SL_FAMILY_IPV4, SL_FAMILY_IPV6 };
		int dup = 0, out = 0;

		for (int f = 0; f < 3; f++)
			for (int hp = 0; hp < 2; hp++)
				for (uint32_t pr = 0; pr < SL_CLASS_PROTOS; pr++) {
					uint32_t c = sl_class_index(fams[f], (uint8_t)hp, pr);

					if (c >= SL_NCLASSES) {
						out++;
						continue;
					}
					dup += seen[c];
					seen[c] = true;
				}
		CHECK_INT(out, ==, 0);
		CHECK_INT(dup, ==, 0);
	}
}

static void test_mask_key(void)
{
	struct sl_match m = { .has_src = true, .src = pfx("10.0.0.0/8"), .has_proto = true,
			      .proto = 6, .has_dport = true, .dport = { 80, 80 } };
	struct sl_entry *e;
	struct sl_err err = { 0 };
	struct sl_key mask, flow, masked;
	int n = sl_keyset_expand(&m, &e, &err);

	CHECK_INT(n, ==, 1);
	if (n != 1)
		return;
	sl_shape_mask_key(&e[0].shape, &mask);
	CHECK_UINT(mask.shape, ==, 0);
	CHECK_UINT(mask.proto, ==, 0xff);
	CHECK_UINT(mask.dport, ==, 0xffff);
	CHECK_UINT(mask.sport, ==, 0);
	CHECK_UINT(mask.src[0], ==, htonl(0xff000000));
	CHECK(!mask.src[1] && !mask.dst[0] && !mask.ether_type);

	/* Masking word by word is masking field by field: the packet lands on the rule's key. */
	memset(&flow, 0, sizeof(flow));
	flow.proto = 6;
	flow.ether_type = htons(0x0800);
	flow.sport = htons(40000);
	flow.dport = htons(80);
	flow.src[0] = htonl(0x0a010203);
	flow.dst[0] = htonl(0xc0a80001);
	for (int w = 0; w < SL_KEY_WORDS; w++)
		masked.w[w] = flow.w[w] & mask.w[w];
	CHECK(!memcmp(&masked, &e[0].key, sizeof(masked)));
	masked.w[0] |= SL_KEY_SHAPE_BITS(5);
	CHECK_UINT(masked.shape, ==, 5);
	free(e);
}

int main(void)
{
	test_shape_classes();
	test_mask_key();
	test_port_blocks();
	test_expand();
	test_shape_equal();
	return ut_summary();
}
