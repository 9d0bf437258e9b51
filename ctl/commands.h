/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The table of sluicectl commands. Each entry is a protocol command of the
 * same name: its options (whose names are the protocol's argument names),
 * its help and how to print its result for people.
 */
#ifndef SLUICECTL_COMMANDS_H
#define SLUICECTL_COMMANDS_H

#include <stdio.h>

#include "ctl_err.h"
#include "options.h"
#include "render.h"

#define CTL_DEFAULT_SOCKET "/run/sluice/sluiced.sock"
#define CTL_SOCKET_ENV "SLUICE_SOCKET"
#define CTL_DEFAULT_TIMEOUT_S 30
/* poll() takes an int of milliseconds; a day is already absurd. */
#define CTL_MAX_TIMEOUT_S 86400

struct ctl_cmd {
	const char *name; /* on the command line and on the wire */
	const char *summary; /* one line for `sluicectl help` */
	const char *description; /* NULL, or paragraphs for `COMMAND --help` */
	const struct ctl_opt *opts;
	ctl_render_fn render; /* human output; --json bypasses it */
	/*
	 * NULL, or picks the protocol command for the parsed args (a verb such
	 * as "conntrack flush" is one on the wire) and drops what the wire does
	 * not take; a nonzero return is a usage error.
	 */
	int (*wire)(json_t *args, const char **name, struct ctl_err *err);
	/*
	 * NULL, or does the talking itself (a command of several requests);
	 * returns 0 with *result, or -errno with a message (-EINVAL: the
	 * input was wrong, before the daemon was asked).
	 */
	int (*send)(const char *socket_path, json_t *args, int timeout_ms, json_t **result,
		    struct ctl_err *err);
};

/* Ends with an entry whose name is NULL. */
extern const struct ctl_cmd ctl_commands[];

/* Options that go before the command: socket, json, timeout, version. */
extern const struct ctl_opt ctl_global_opts[];

const struct ctl_cmd *ctl_cmd_find(const char *name);

void ctl_print_usage(FILE *out); /* the global synopsis lines */
void ctl_print_help(FILE *out); /* `sluicectl --help` */
void ctl_cmd_print_usage(FILE *out, const struct ctl_cmd *cmd);
void ctl_cmd_print_help(FILE *out, const struct ctl_cmd *cmd);

#endif
