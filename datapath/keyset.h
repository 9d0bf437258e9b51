/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Turns a validated match into classifier entries: one (shape, key) pair per
 * address family and per aligned port block, since a hash probe can only
 * match a range that is a power-of-two block.
 */
#ifndef SLUICE_KEYSET_H
#define SLUICE_KEYSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "match.h"
#include "sluice_abi.h"

/*
 * Which fields a group of entries matches and with which masks; the hook
 * gives each distinct shape a slot and the BPF side sees it in key form.
 */
struct sl_shape {
	__be32 src_mask[4];
	__be32 dst_mask[4];
	__be16 ether_type_mask;
	__be16 sport_mask;
	__be16 dport_mask;
	uint8_t proto_mask;
	uint8_t family;      /* SL_FAMILY_*: which packets can match */
	uint8_t needs_ports; /* the rule names ports: non-first fragments never match */
	uint8_t proto;       /* with proto_mask: the protocol of every rule of the shape */
	uint8_t action;      /* SL_ACTION_*: drop and redirect rules never share a shape */
};

/* Drop rules have shapes of their own; redirect and rewrite rules are ranked together. */
static inline uint8_t sl_shape_action_of(uint32_t kind)
{
	return kind == SL_ACTION_DROP ? SL_ACTION_DROP : SL_ACTION_REDIRECT;
}

/* Whether a packet of this class (see sl_class_index) can match the shape. */
bool sl_shape_in_class(const struct sl_shape *sh, uint8_t family, bool has_ports,
		       uint32_t proto);

/* The shape's masks as a key (shape byte zero), as the classifier ANDs them. */
void sl_shape_mask_key(const struct sl_shape *sh, struct sl_key *out);

struct sl_entry {
	struct sl_shape shape;
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
