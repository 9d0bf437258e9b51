/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every command handler can reach: the daemon's state and settings. */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <time.h>

#include "ruleset.h"

/* Seconds between sweeps of expired flows out of conntrack. */
#define SL_CT_EXPIRE_PERIOD_S 5

struct sl_daemon {
	struct sl_ruleset *rules;
	struct sl_dp_ct *ct; /* shared by every hook; owned here */
	const char *socket_path;
	const char *state_dir;
	const char *bpffs;
	time_t started;
};

#endif
