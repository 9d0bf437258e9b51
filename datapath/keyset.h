/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Turns a validated match into classifier entries: one (shape, key) pair per
 * address family and per aligned port block, since a hash probe can only
 * match a range that is a power-of-two block.
 */
#ifndef SLUICE_KEYSET_H
#define SLUICE_KEYSET_H

#include <stddef.h>

#include "match.h"
#include "sluice_abi.h"

struct sl_entry {
	struct sl_shape shape; /* active == 0; the slot owner activates it */
	struct sl_key key;     /* key.shape is filled in when the shape gets a slot */
};

/* Upper bound of entries for any one rule: 2 families x 30 x 30 port blocks. */
#define SL_MAX_ENTRIES_PER_RULE 1800

struct sl_port_block {
	uint16_t value, mask;
};

/* Splits [lo, hi] into the fewest aligned blocks; returns how many (at most 32). */
size_t sl_port_blocks(const struct sl_port_range *r, struct sl_port_block *out);

/* Allocates *out (free() it); returns the entry count or a negative errno. */
int sl_keyset_expand(const struct sl_match *m, struct sl_entry **out, struct sl_err *err);

/* Same masks and family: entries with equal shapes share one probe. */
int sl_shape_equal(const struct sl_shape *a, const struct sl_shape *b);

#endif
