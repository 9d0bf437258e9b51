/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What every command handler can reach: the daemon's state and settings. */
#ifndef SLUICE_DAEMON_H
#define SLUICE_DAEMON_H

#include <time.h>

#include "ruleset.h"

struct sl_daemon {
	struct sl_ruleset *rules;
	const char *socket_path;
	const char *state_dir;
	const char *bpffs;
	time_t started;
};

#endif
