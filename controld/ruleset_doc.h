/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The whole rule set as one JSON document: what `export` prints, `apply`
 * takes and the state file holds ({"rules": [{"kind": ..., args...}, ...]}).
 * The state file adds each rule's counter slot and the next rule id.
 */
#ifndef SLUICE_RULESET_DOC_H
#define SLUICE_RULESET_DOC_H

#include <jansson.h>

#include "ruleset.h"

#define SL_STATE_FORMAT "sluice-state"
#define SL_STATE_VERSION 1

struct sl_doc_rule {
	uint64_t id;   /* 0: none given */
	uint32_t slot; /* state file only; UINT32_MAX: none */
	struct sl_rule_spec spec; /* validated and normalised; strings point into the document */
	char *canon;   /* canonical form, to compare with live rules */
};

struct sl_doc {
	json_t *root;
	struct sl_doc_rule *rules;
	size_t n;
	uint64_t next_id; /* state file only; 0: none */
	uint64_t seq;     /* state file only: the last journal line it includes */
};

/*
 * Validates every rule of root (a reference is taken). state: the state
 * file's form (slots, next_id). Errors name the rule: "rules[3]: dport: ...".
 */
int sl_doc_parse(json_t *root, bool state, struct sl_doc *doc, struct sl_err *err);
void sl_doc_free(struct sl_doc *doc);

/* The live rule set in export's form. */
json_t *sl_doc_export(struct sl_ruleset *rs);
/* Parses one rule of the state file's form. */
int sl_doc_parse_rule(json_t *entry, struct sl_doc_rule *out, struct sl_err *err);

#endif
