/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Which rules own each classifier key. Two rules can produce the same key
 * (overlapping port blocks, duplicate matches); the BPF map holds one value,
 * the holder's: the owner with the lowest rank, the oldest among equals.
 * When the holder goes, the next owner takes the entry over.
 */
#ifndef SLUICE_KEYINDEX_H
#define SLUICE_KEYINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "sluice_abi.h"

struct sl_keyindex;

struct sl_keyindex *sl_keyindex_new(void);
void sl_keyindex_free(struct sl_keyindex *ki);

/*
 * Adds slot as an owner of key. *first is set when slot now holds the key;
 * *prev_holder is the owner that held it before (UINT32_MAX: a new key).
 */
int sl_keyindex_add(struct sl_keyindex *ki, const struct sl_key *key, uint32_t slot,
		    uint64_t rank, int *first, uint32_t *prev_holder);

/*
 * Removes slot from key's owners. *next_owner gets the owner that now holds
 * the key (or UINT32_MAX when none is left) and *next_rank its rank;
 * *was_first tells whether the removed slot held it before.
 */
int sl_keyindex_del(struct sl_keyindex *ki, const struct sl_key *key, uint32_t slot,
		    int *was_first, uint32_t *next_owner, uint64_t *next_rank);

size_t sl_keyindex_count(const struct sl_keyindex *ki);

#endif
