/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A rule as the arguments of the add-* command that makes it: the form of
 * `export`, `apply` documents and the state file, so whatever is exported
 * can be applied back and compared field by field.
 */
#ifndef SLUICE_RULE_ARGS_H
#define SLUICE_RULE_ARGS_H

#include <jansson.h>

#include "ruleset.h"

/* "drop", "redirect", "rewrite" <-> SL_ACTION_*. */
int sl_rule_kind_parse(const char *text, uint32_t *action);
const char *sl_action_name(uint32_t action);

/* Parses add-KIND arguments (already checked against the command's names) into spec. */
int sl_rule_spec_parse(uint32_t action, json_t *args, struct sl_rule_spec *spec,
		       struct sl_err *err);

/* {"kind": ..., add arguments...}: only the fields given, in canonical spelling. */
json_t *sl_spec_to_args(const struct sl_rule_spec *spec);
/*
 * sl_spec_to_args() as one compact line with sorted keys (malloc()ed): equal
 * rules have equal texts, so documents and live rules compare as strings.
 */
char *sl_spec_canonical(const struct sl_rule_spec *spec);
/* The same for a rule, with its "id" first. */
json_t *sl_rule_to_args(const struct sl_rule *r);

#endif
