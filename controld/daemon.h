/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every command handler can reach: the daemon's state and settings. */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

#include "ruleset.h"

/* Seconds between sweeps of expired flows out of conntrack. */
#define SL_CT_EXPIRE_PERIOD_S 5
/* Seconds between checks that attach points are where their rules say. */
#define SL_RESYNC_PERIOD_S 1

struct sl_daemon {
	struct sl_ruleset *rules;
	struct sl_dp_ct *ct; /* shared by every hook; owned here */
	const char *socket_path;
	const char *state_dir;
	const char *bpffs;
	time_t started;
	bool state_dirty; /* the last save failed; retried on the next change and timer */
	uint64_t journal_seq;   /* sequence number of the last journal line written */
	uint64_t journal_lines; /* lines in the journal since rules.json was written */
	/*
	 * A document too large for one request line arrives in parts (apply
	 * with "more"): its text so far, under the client's txn name.
	 */
	struct {
		char *text;
		size_t len, cap;
		char txn[64];
		time_t touched;
	} staging;
};

#endif
