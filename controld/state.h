/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The state file (STATE_DIR/rules.json): the desired rule set, rewritten
 * atomically after every change, read back when the daemon starts.
 */
#ifndef SLUICE_STATE_H
#define SLUICE_STATE_H

#include <stdbool.h>

#include "daemon.h"

#define SL_STATE_FILE "rules.json"
/*
 * Single adds and deletes are appended here (one line each, fdatasync)
 * instead of rewriting a large rules.json; it is folded into rules.json
 * once it holds as many lines as there are rules.
 */
#define SL_JOURNAL_FILE "rules.journal"

/* Writes it (temporary file, fsync, rename, fsync of the directory) and empties the journal. */
int sl_state_save(struct sl_daemon *d, struct sl_err *err);
/* After a change of many rules: saves, or logs and leaves it for a retry (d->state_dirty). */
void sl_state_changed(struct sl_daemon *d);
/* After one rule was added or deleted: appends to the journal. */
void sl_state_rule_added(struct sl_daemon *d, const struct sl_rule *r);
void sl_state_rule_deleted(struct sl_daemon *d, uint64_t id);
/*
 * Reads the state file into d->rules, every rule detached until
 * sl_ruleset_resync(). *found tells whether there was one. A damaged file is
 * an error naming it, and nothing is loaded.
 */
int sl_state_load(struct sl_daemon *d, bool *found, struct sl_err *err);

#endif
