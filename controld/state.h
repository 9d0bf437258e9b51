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

/* Writes it (temporary file, fsync, rename, fsync of the directory). */
int sl_state_save(struct sl_daemon *d, struct sl_err *err);
/* After a change: saves, or logs and leaves it for the next retry (d->state_dirty). */
void sl_state_changed(struct sl_daemon *d);
/*
 * Reads the state file into d->rules, every rule detached until
 * sl_ruleset_resync(). *found tells whether there was one. A damaged file is
 * an error naming it, and nothing is loaded.
 */
int sl_state_load(struct sl_daemon *d, bool *found, struct sl_err *err);

#endif
