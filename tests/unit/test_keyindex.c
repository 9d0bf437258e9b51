// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Key ownership: which rule's slot the BPF map holds for a shared key, and
 * who takes it over when that rule goes. A wrong next owner would count (or
 * keep dropping) packets for a deleted rule.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keyindex.h"
#include "unit_check.h"

static struct sl_key make_key(uint32_t i)
{
	struct sl_key k;

	/* Whole-struct zeroing: the index compares keys bytewise, padding included. */
	memset(&k, 0, sizeof(k));
	k.shape = (uint8_t)(i % 7);
	k.proto = 6;
	k.src[0] = htonl(0x0a000000 | (i & 0xffffff));
	k.dport = htons((uint16_t)(i >> 8));
	return k;
}

/* Outputs the tests below do not look at. */
static uint32_t prev_holder;
static uint64_t next_rank;

/* Owners by rank: the lowest rank holds the key, equals by age. */
static void test_ranks(void)
{
	struct sl_keyindex *ki = sl_keyindex_new();
	struct sl_key k = make_key(7);
	uint32_t prev = 0, next = 0;
	uint64_t rank = 0;
	int first = -1, was_first = -1;

	if (!CHECK(ki != NULL))
		return;
	CHECK_INT(sl_keyindex_add(ki, &k, 1, 500, &first, &prev), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_UINT(prev, ==, UINT32_MAX); /* a new key */
	CHECK_INT(sl_keyindex_add(ki, &k, 2, 900, &first, &prev), ==, 0);
	CHECK_INT(first, ==, 0);
	CHECK_UINT(prev, ==, 1);
	/* A better rank takes the key over from the holder. */
	CHECK_INT(sl_keyindex_add(ki, &k, 3, 100, &first, &prev), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_UINT(prev, ==, 1);
	/* An equal rank queues behind the older owner. */
	CHECK_INT(sl_keyindex_add(ki, &k, 4, 100, &first, &prev), ==, 0);
	CHECK_INT(first, ==, 0);
	CHECK_UINT(prev, ==, 3);
	/* Order now 3(100) 4(100) 1(500) 2(900). */
	CHECK_INT(sl_keyindex_del(ki, &k, 3, &was_first, &next, &rank), ==, 0);
	CHECK_INT(was_first, ==, 1);
	CHECK_UINT(next, ==, 4);
	CHECK_UINT(rank, ==, 100);
	CHECK_INT(sl_keyindex_del(ki, &k, 1, &was_first, &next, &rank), ==, 0);
	CHECK_INT(was_first, ==, 0);
	CHECK_UINT(next, ==, 4);
	CHECK_INT(sl_keyindex_del(ki, &k, 4, &was_first, &next, &rank), ==, 0);
	CHECK_UINT(next, ==, 2);
	CHECK_UINT(rank, ==, 900);
	sl_keyindex_free(ki);
}

static void test_basic(void)
{
	struct sl_keyindex *ki = sl_keyindex_new();
	struct sl_key k = make_key(1), other = make_key(2), shape_only = make_key(1);
	uint32_t next = 0;
	int first = -1, was_first = -1;

	if (!CHECK(ki != NULL))
		return;
	CHECK_INT(sl_keyindex_count(ki), ==, 0);

	CHECK_INT(sl_keyindex_add(ki, &k, 10, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_INT(sl_keyindex_count(ki), ==, 1);
	CHECK_INT(sl_keyindex_add(ki, &k, 20, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 0);
	CHECK_INT(sl_keyindex_add(ki, &k, 30, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 0);
	CHECK_INT(sl_keyindex_count(ki), ==, 1); /* keys, not owners */

	/* Keys differing only in the shape byte are different keys. */
	shape_only.shape = (uint8_t)(k.shape + 1);
	CHECK_INT(sl_keyindex_add(ki, &shape_only, 10, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_INT(sl_keyindex_count(ki), ==, 2);

	/* Unknown key, unknown owner of a known key: nothing changes. */
	CHECK_INT(sl_keyindex_del(ki, &other, 10, &was_first, &next, &next_rank), ==, -ENOENT);
	CHECK_INT(sl_keyindex_del(ki, &k, 99, &was_first, &next, &next_rank), ==, -ENOENT);
	CHECK_INT(sl_keyindex_count(ki), ==, 2);

	/* The first owner goes: the oldest remaining one takes over. */
	was_first = -1;
	CHECK_INT(sl_keyindex_del(ki, &k, 10, &was_first, &next, &next_rank), ==, 0);
	CHECK_INT(was_first, ==, 1);
	CHECK_UINT(next, ==, 20);
	/* A later owner goes: the holder stays. */
	CHECK_INT(sl_keyindex_del(ki, &k, 30, &was_first, &next, &next_rank), ==, 0);
	CHECK_INT(was_first, ==, 0);
	CHECK_UINT(next, ==, 20);
	CHECK_INT(sl_keyindex_count(ki), ==, 2);
	/* The last owner goes: the key goes. */
	CHECK_INT(sl_keyindex_del(ki, &k, 20, &was_first, &next, &next_rank), ==, 0);
	CHECK_INT(was_first, ==, 1);
	CHECK_UINT(next, ==, UINT32_MAX);
	CHECK_INT(sl_keyindex_count(ki), ==, 1);
	CHECK_INT(sl_keyindex_del(ki, &k, 20, &was_first, &next, &next_rank), ==, -ENOENT);

	/* The key comes back fresh: its new owner is first again. */
	CHECK_INT(sl_keyindex_add(ki, &k, 30, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_INT(sl_keyindex_count(ki), ==, 2);

	/* Slot 0 and UINT32_MAX - 1 are ordinary owners. */
	CHECK_INT(sl_keyindex_add(ki, &other, 0, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 1);
	CHECK_INT(sl_keyindex_add(ki, &other, UINT32_MAX - 1, 0, &first, &prev_holder), ==, 0);
	CHECK_INT(first, ==, 0);
	CHECK_INT(sl_keyindex_del(ki, &other, 0, &was_first, &next, &next_rank), ==, 0);
	CHECK_INT(was_first, ==, 1);
	CHECK_UINT(next, ==, UINT32_MAX - 1);

	sl_keyindex_free(ki);
	sl_keyindex_free(NULL);
}

/* Many owners of one key: the owner list outgrows its inline slot. */
static void test_many_owners(void)
{
	struct sl_keyindex *ki = sl_keyindex_new();
	struct sl_key k = make_key(42);
	uint32_t next;
	int first, was_first;
	unsigned long bad = 0;

	if (!CHECK(ki != NULL))
		return;
	for (uint32_t s = 0; s < 1000; s++) {
		if (sl_keyindex_add(ki, &k, s, 0, &first, &prev_holder) || first != (s == 0))
			bad++;
	}
	CHECK_INT(bad, ==, 0);
	CHECK_INT(sl_keyindex_count(ki), ==, 1);
	/* Odd slots go: the holder (0) stays. */
	for (uint32_t s = 1; s < 1000; s += 2) {
		if (sl_keyindex_del(ki, &k, s, &was_first, &next, &next_rank) || was_first || next != 0)
			bad++;
	}
	CHECK_INT(bad, ==, 0);
	/* Then the holder each time: always the next even slot in age order. */
	for (uint32_t s = 0; s < 1000; s += 2) {
		uint32_t want = s + 2 < 1000 ? s + 2 : UINT32_MAX;

		if (sl_keyindex_del(ki, &k, s, &was_first, &next, &next_rank) || !was_first || next != want) {
			CHECK_QUIET(0, "del %u: was_first %d next %u want %u", s, was_first, next,
				    want);
			bad++;
		}
	}
	CHECK_INT(bad, ==, 0);
	CHECK_INT(sl_keyindex_count(ki), ==, 0);
	sl_keyindex_free(ki);
}

/* ---- stress against an oracle ---- */

struct owners {
	uint32_t *v;
	uint32_t n, cap;
};

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static int oracle_find(const struct owners *o, uint32_t slot)
{
	for (uint32_t i = 0; i < o->n; i++)
		if (o->v[i] == slot)
			return (int)i;
	return -1;
}

static void oracle_add(struct owners *o, uint32_t slot)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 2;
		o->v = realloc(o->v, o->cap * sizeof(*o->v));
		if (!o->v)
			abort();
	}
	o->v[o->n++] = slot;
}

static void oracle_del(struct owners *o, int i)
{
	memmove(&o->v[i], &o->v[i + 1], (o->n - (uint32_t)i - 1) * sizeof(*o->v));
	o->n--;
}

#define NKEYS 200000
#define NPOOL (NKEYS + NKEYS / 10) /* keys that only random adds bring in */
#define NOPS 600000

/* Checks one del against the oracle; returns whether it agreed. */
static bool del_one(struct sl_keyindex *ki, struct owners *o, uint32_t k, uint32_t slot,
		    size_t *live)
{
	struct sl_key key = make_key(k);
	int idx = oracle_find(&o[k], slot), was_first = -1, rc;
	uint32_t next = 12345;

	rc = sl_keyindex_del(ki, &key, slot, &was_first, &next, &next_rank);
	if (idx < 0)
		return CHECK_QUIET(rc == -ENOENT, "del key %u slot %u (not an owner) = %d", k, slot,
				 rc);
	oracle_del(&o[k], idx);
	if (!o[k].n)
		(*live)--;
	return CHECK_QUIET(rc == 0 && was_first == (idx == 0) &&
				 next == (o[k].n ? o[k].v[0] : UINT32_MAX),
			 "del key %u slot %u = %d, was_first %d next %u; want was_first %d next %u",
			 k, slot, rc, was_first, next, idx == 0, o[k].n ? o[k].v[0] : UINT32_MAX);
}

static void test_stress(void)
{
	struct sl_keyindex *ki = sl_keyindex_new();
	struct owners *o = calloc(NPOOL, sizeof(*o));
	unsigned long bad = 0, adds = 0, dels = 0, misses = 0;
	size_t live = 0;
	uint32_t *order;

	if (!CHECK(ki && o))
		goto out;

	/* Distinct keys first: the table grows from 256 buckets through every size. */
	for (uint32_t k = 0; k < NKEYS; k++) {
		struct sl_key key = make_key(k);
		int first = -1;

		if (sl_keyindex_add(ki, &key, k, 0, &first, &prev_holder) || first != 1)
			bad++;
		oracle_add(&o[k], k);
	}
	live = NKEYS;
	CHECK_INT(bad, ==, 0);
	CHECK_INT(sl_keyindex_count(ki), ==, NKEYS);

	for (int op = 0; op < NOPS && bad < 20; op++) {
		uint32_t k = (uint32_t)(rnd() % NPOOL), r = (uint32_t)(rnd() % 100);

		if (r < 50) {
			uint32_t slot = (uint32_t)(rnd() % 4096);
			struct sl_key key = make_key(k);
			int first = -1, rc;

			if (oracle_find(&o[k], slot) >= 0)
				continue; /* a rule never adds the same key twice */
			rc = sl_keyindex_add(ki, &key, slot, 0, &first, &prev_holder);
			if (!CHECK_QUIET(rc == 0 && first == (o[k].n == 0),
				       "add key %u slot %u = %d first %d, owners before %u", k, slot,
				       rc, first, o[k].n))
				bad++;
			if (!o[k].n)
				live++;
			oracle_add(&o[k], slot);
			adds++;
		} else if (r < 90 && o[k].n) {
			bad += !del_one(ki, o, k, o[k].v[rnd() % o[k].n], &live);
			dels++;
		} else {
			/* Most likely not an owner: must be refused and change nothing. */
			bad += !del_one(ki, o, k, 4096 + (uint32_t)(rnd() % 4096), &live);
			misses++;
		}
		if (sl_keyindex_count(ki) != live)
			bad += !CHECK_QUIET(0, "op %d: count %zu, oracle %zu", op,
					  sl_keyindex_count(ki), live);
	}
	CHECK_MSG(bad == 0, "%lu disagreements in %lu adds, %lu dels, %lu misses", bad, adds,
		  dels, misses);
	CHECK_INT(sl_keyindex_count(ki), ==, live);

	/* Drain every key in a shuffled order, checking each hand-over. */
	order = malloc(NPOOL * sizeof(*order));
	if (!CHECK(order))
		goto out;
	for (uint32_t i = 0; i < NPOOL; i++)
		order[i] = i;
	for (uint32_t i = NPOOL - 1; i > 0; i--) {
		uint32_t j = (uint32_t)(rnd() % (i + 1)), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	bad = 0;
	for (uint32_t i = 0; i < NPOOL && bad < 20; i++) {
		uint32_t k = order[i];

		while (o[k].n && bad < 20)
			bad += !del_one(ki, o, k, o[k].v[rnd() % o[k].n], &live);
	}
	free(order);
	CHECK_INT(bad, ==, 0);
	CHECK_INT(live, ==, 0);
	CHECK_INT(sl_keyindex_count(ki), ==, 0);
out:
	if (o)
		for (uint32_t k = 0; k < NPOOL; k++)
			free(o[k].v);
	free(o);
	sl_keyindex_free(ki);
}

int main(void)
{
	test_ranks();
	test_basic();
	test_many_owners();
	test_stress();
	return ut_summary();
}
