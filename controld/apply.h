/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `apply`: makes the live rule set equal to a document. Rules equal in
 * every field are kept with their ids and counters; the others are deleted
 * and added. All or nothing: a failure puts back what was deleted and takes
 * out what was added.
 */
#ifndef SLUICE_APPLY_H
#define SLUICE_APPLY_H

#include <jansson.h>

#include "daemon.h"
#include "ruleset_doc.h"

/* *result: {"added": [ids or rules], "deleted": [ids], "kept": N, "detached": [ids]}. */
int sl_apply(struct sl_daemon *d, const struct sl_doc *doc, bool dry_run, json_t **result,
	     struct sl_err *err);

/*
 * The apply command: {"rules": [...]} in one request, or the document's
 * text ("document"), in parts ("more": true and a "txn" name on all but the
 * last) when it is larger than a request line.
 */
int sl_cmd_apply(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err);

#endif
