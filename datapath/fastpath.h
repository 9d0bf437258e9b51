/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * User space's side of the classifier's fast-path map (struct sl_fastpath):
 * shape masks, the candidate-shape bitmap of every packet class and the
 * prefilter, all written through one mmap() of the map value while
 * packets are being classified.
 */
#ifndef SLUICE_FASTPATH_H
#define SLUICE_FASTPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keyset.h"
#include "sl_err.h"

struct sl_fast {
	struct sl_fastpath *map; /* the map's single value, mmap()ed */
	size_t map_len;
	uint8_t *bloom_counts;   /* keys per prefilter bit, saturating at 255 (the bit then stays) */
};

int sl_fast_open(struct sl_fast *f, int map_fd, struct sl_err *err);
void sl_fast_close(struct sl_fast *f);

/* Writes a shape's masks; only while no class lists the shape. */
void sl_fast_shape_masks(struct sl_fast *f, uint32_t idx, const struct sl_shape *sh);
/* Lists (on) or unlists the shape in every class it can match. */
void sl_fast_shape_publish(struct sl_fast *f, uint32_t idx, const struct sl_shape *sh, bool on);

/* Whether the program looks packets up in conntrack. */
void sl_fast_ct_active(struct sl_fast *f, bool on);

/* Before the key enters the rules map, so a reader never misses a present key. */
void sl_fast_bloom_add(struct sl_fast *f, const struct sl_key *k);
/* After the key left the rules map. */
void sl_fast_bloom_del(struct sl_fast *f, const struct sl_key *k);

#endif
