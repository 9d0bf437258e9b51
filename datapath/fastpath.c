// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fastpath.h"

int sl_fast_open(struct sl_fast *f, int map_fd, struct sl_err *err)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (sizeof(struct sl_fastpath) + page - 1) / page * page;
	void *mem;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (mem == MAP_FAILED)
		return sl_err_set(err, errno, "cannot map the classifier's fast-path map: %s",
				  strerror(errno));
	f->bloom_counts = calloc((size_t)SL_BLOOM_WORDS * 64, 1);
	if (!f->bloom_counts) {
		munmap(mem, len);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	f->map = mem;
	f->map_len = len;
	return 0;
}

void sl_fast_close(struct sl_fast *f)
{
	if (f->map)
		munmap(f->map, f->map_len);
	free(f->bloom_counts);
	memset(f, 0, sizeof(*f));
}

void sl_fast_shape_masks(struct sl_fast *f, uint32_t idx, const struct sl_shape *sh)
{
	struct sl_key mask;

	sl_shape_mask_key(sh, &mask);
	memcpy(&f->map->shape_mask[idx], &mask, sizeof(mask));
	/* The masks are visible before any class bit that leads a reader to them. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

void sl_fast_shape_publish(struct sl_fast *f, uint32_t idx, const struct sl_shape *sh, bool on)
{
	static const uint8_t families[] = { SL_FAMILY_ANY, SL_FAMILY_IPV4, SL_FAMILY_IPV6 };
	uint32_t bit = 1u << idx;

	/* A reader that finds the shape in a class already knows which table it is in. */
	if (on && sh->action == SL_ACTION_REDIRECT)
		__atomic_fetch_or(&f->map->redirect_shapes, bit, __ATOMIC_RELEASE);
	if (on && sh->family == SL_FAMILY_IPV6)
		__atomic_fetch_or(&f->map->wide_shapes, bit, __ATOMIC_RELEASE);
	for (size_t fi = 0; fi < sizeof(families); fi++) {
		for (int ports = 0; ports < 2; ports++) {
			for (uint32_t proto = 0; proto < SL_CLASS_PROTOS; proto++) {
				uint32_t *word;

				if (!sl_shape_in_class(sh, families[fi], ports, proto))
					continue;
				word = &f->map->class_shapes[sl_class_index(families[fi], (uint8_t)ports,
									    proto)];
				if (on)
					__atomic_fetch_or(word, bit, __ATOMIC_RELEASE);
				else
					__atomic_fetch_and(word, ~bit, __ATOMIC_RELEASE);
			}
		}
	}
	if (!on) {
		__atomic_fetch_and(&f->map->redirect_shapes, ~bit, __ATOMIC_RELEASE);
		__atomic_fetch_and(&f->map->wide_shapes, ~bit, __ATOMIC_RELEASE);
	}
}

static uint32_t key_bit(const struct sl_key *k)
{
	return sl_bloom_bit(sl_bloom_hash_words(k->w[0], k->w[1], k->w[2], k->w[3], k->w[4]));
}

void sl_fast_bloom_add(struct sl_fast *f, const struct sl_key *k)
{
	uint32_t bit = key_bit(k);

	if (f->bloom_counts[bit] == UINT8_MAX)
		return;
	if (f->bloom_counts[bit]++ == 0)
		__atomic_fetch_or(&f->map->bloom[bit / 64], 1ull << (bit % 64), __ATOMIC_RELEASE);
}

void sl_fast_bloom_del(struct sl_fast *f, const struct sl_key *k)
{
	uint32_t bit = key_bit(k);

	if (f->bloom_counts[bit] == UINT8_MAX || f->bloom_counts[bit] == 0)
		return;
	if (--f->bloom_counts[bit] == 0)
		__atomic_fetch_and(&f->map->bloom[bit / 64], ~(1ull << (bit % 64)), __ATOMIC_RELEASE);
}

void sl_fast_ct_active(struct sl_fast *f, bool on)
{
	__atomic_store_n(&f->map->ct_active, on ? 1u : 0u, __ATOMIC_RELEASE);
}
