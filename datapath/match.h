/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a rule matches, as an operator writes it, and its validation. A
 * packet matches when it matches every field that is set.
 */
#ifndef SLUICE_MATCH_H
#define SLUICE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

struct sl_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t plen;
	uint8_t addr[16]; /* network order, host bits zero */
};

struct sl_port_range {
	uint16_t lo, hi;
};

struct sl_match {
	bool has_src, has_dst, has_proto, has_sport, has_dport, has_ether_type;
	struct sl_prefix src, dst;
	uint8_t proto;
	struct sl_port_range sport, dport;
	uint16_t ether_type; /* host order */
};

/* Each parser accepts the CLI/protocol spelling; returns 0 or -EINVAL with a message. */
int sl_parse_prefix(const char *text, struct sl_prefix *out, struct sl_err *err);
int sl_parse_port_range(const char *text, struct sl_port_range *out, struct sl_err *err);
int sl_parse_proto(const char *text, uint8_t *out, struct sl_err *err);
int sl_parse_ether_type(const char *text, uint16_t *out, struct sl_err *err);

/* Checks that the fields agree with each other (family, protocol, ports). */
int sl_match_validate(const struct sl_match *m, struct sl_err *err);

/* 4 or 6 when the match can only see one IP family, 0 otherwise. */
int sl_match_family(const struct sl_match *m);

/*
 * How narrow a match is, in matched bits: prefix lengths, the protocol, the
 * port bits a range pins down, the ether type. Orders redirect rules.
 */
unsigned int sl_match_specificity(const struct sl_match *m);

/* Text forms, for listing rules back to people. */
void sl_format_prefix(const struct sl_prefix *p, char *buf, size_t len);
void sl_format_port_range(const struct sl_port_range *r, char *buf, size_t len);
const char *sl_proto_name(uint8_t proto); /* NULL when it has no name */
const char *sl_ether_type_name(uint16_t ether_type); /* NULL when it has no name */

#endif
