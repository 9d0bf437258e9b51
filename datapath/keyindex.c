// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "keyindex.h"

struct ki_owner {
	uint64_t rank;
	uint32_t slot;
};

struct ki_node {
	struct ki_node *next;
	struct sl_key key;
	uint32_t nowners, cap;
	struct ki_owner *owners; /* by rank, then age; owners[0] holds the key in the BPF map */
	struct ki_owner inline_owner;
};

struct sl_keyindex {
	struct ki_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
};

static uint64_t key_hash(const struct sl_key *key)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < sizeof(*key); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return h ^ (h >> 29);
}

struct sl_keyindex *sl_keyindex_new(void)
{
	struct sl_keyindex *ki = calloc(1, sizeof(*ki));

	if (!ki)
		return NULL;
	ki->nbuckets = 256;
	ki->buckets = calloc(ki->nbuckets, sizeof(*ki->buckets));
	if (!ki->buckets) {
		free(ki);
		return NULL;
	}
	return ki;
}

static void node_free(struct ki_node *n)
{
	if (n->owners != &n->inline_owner)
		free(n->owners);
	free(n);
}

void sl_keyindex_free(struct sl_keyindex *ki)
{
	if (!ki)
		return;
	for (size_t i = 0; i < ki->nbuckets; i++) {
		struct ki_node *n = ki->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			node_free(n);
		}
	}
	free(ki->buckets);
	free(ki);
}

static int grow(struct sl_keyindex *ki)
{
	size_t nb = ki->nbuckets * 2;
	struct ki_node **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < ki->nbuckets; i++) {
		struct ki_node *n = ki->buckets[i], *next;

		for (; n; n = next) {
			size_t h = key_hash(&n->key) & (nb - 1);

			next = n->next;
			n->next = b[h];
			b[h] = n;
		}
	}
	free(ki->buckets);
	ki->buckets = b;
	ki->nbuckets = nb;
	return 0;
}

static struct ki_node **find(struct sl_keyindex *ki, const struct sl_key *key)
{
	struct ki_node **pp = &ki->buckets[key_hash(key) & (ki->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if (!memcmp(&(*pp)->key, key, sizeof(*key)))
			break;
	return pp;
}

int sl_keyindex_add(struct sl_keyindex *ki, const struct sl_key *key, uint32_t slot,
		    uint64_t rank, int *first, uint32_t *prev_holder)
{
	struct ki_node **pp, *n;
	uint32_t pos;

	if (ki->count >= ki->nbuckets && grow(ki))
		return -ENOMEM;
	pp = find(ki, key);
	n = *pp;
	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return -ENOMEM;
		n->key = *key;
		n->owners = &n->inline_owner;
		n->cap = 1;
		*pp = n;
		ki->count++;
	}
	if (n->nowners == n->cap) {
		uint32_t cap = n->cap * 2;
		struct ki_owner *o = malloc(cap * sizeof(*o));

		if (!o)
			return -ENOMEM;
		memcpy(o, n->owners, n->nowners * sizeof(*o));
		if (n->owners != &n->inline_owner)
			free(n->owners);
		n->owners = o;
		n->cap = cap;
	}
	/* After every owner of the same or a lower rank: equals keep their age order. */
	for (pos = n->nowners; pos > 0 && n->owners[pos - 1].rank > rank; pos--)
		;
	*prev_holder = n->nowners ? n->owners[0].slot : UINT32_MAX;
	memmove(&n->owners[pos + 1], &n->owners[pos], (n->nowners - pos) * sizeof(*n->owners));
	n->owners[pos] = (struct ki_owner){ .rank = rank, .slot = slot };
	n->nowners++;
	*first = pos == 0;
	return 0;
}

int sl_keyindex_del(struct sl_keyindex *ki, const struct sl_key *key, uint32_t slot,
		    int *was_first, uint32_t *next_owner, uint64_t *next_rank)
{
	struct ki_node **pp = find(ki, key), *n = *pp;
	uint32_t i;

	if (!n)
		return -ENOENT;
	for (i = 0; i < n->nowners && n->owners[i].slot != slot; i++)
		;
	if (i == n->nowners)
		return -ENOENT;
	*was_first = i == 0;
	/* Keep the order: the best remaining owner takes over. */
	memmove(&n->owners[i], &n->owners[i + 1], (n->nowners - i - 1) * sizeof(*n->owners));
	n->nowners--;
	if (n->nowners == 0) {
		*pp = n->next;
		node_free(n);
		ki->count--;
		*next_owner = UINT32_MAX;
		*next_rank = 0;
	} else {
		*next_owner = n->owners[0].slot;
		*next_rank = n->owners[0].rank;
	}
	return 0;
}

size_t sl_keyindex_count(const struct sl_keyindex *ki)
{
	return ki->count;
}
