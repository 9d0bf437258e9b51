/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Rules between their protocol form (JSON args, list items) and the rule table. */
#ifndef SLUICE_RULE_JSON_H
#define SLUICE_RULE_JSON_H

#include <jansson.h>

#include "ruleset.h"

/* Match argument names shared by every add-* command. */
#define SL_MATCH_ARG_NAMES "src", "dst", "proto", "sport", "dport", "ether-type"

/* Redirect argument names of add-redirect, besides the match. */
#define SL_REDIRECT_ARG_NAMES "to", "mode", "dst-mac", "src-mac", "priority"

/* Rewrite argument names of add-rewrite, besides the match. */
#define SL_REWRITE_ARG_NAMES \
	"to-src", "to-sport", "to-dst", "to-dport", "redirect", "mode", "dst-mac", "src-mac", \
		"priority"

/* Fills spec from add-* arguments; spec's strings point into args. */
int sl_rule_spec_from_args(json_t *args, enum sl_hook_kind default_hook,
			   struct sl_rule_spec *spec, struct sl_err *err);
/* The redirect part of add-redirect's arguments. */
int sl_redirect_spec_from_args(json_t *args, struct sl_rule_spec *spec, struct sl_err *err);

/* The translation (and optional redirect) part of add-rewrite's arguments. */
int sl_rewrite_spec_from_args(json_t *args, struct sl_rule_spec *spec, struct sl_err *err);

/* A list item: id, kind, name, iface, netns, hook, match fields, counters. */
json_t *sl_rule_to_json(const struct sl_rule *r);
/* "drop", "redirect" or "rewrite", as list and stats name a rule's kind. */
const char *sl_rule_kind_name(const struct sl_rule *r);

#endif
