/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Generic command-line options -> JSON arguments. Every sluicectl command is
 * described by a table of struct ctl_opt; the option's long name is also the
 * name of the protocol argument, so adding a command or an option is a table
 * entry and nothing else.
 */
#ifndef SLUICECTL_OPTIONS_H
#define SLUICECTL_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ctl_err.h"

enum ctl_opt_type {
	/* Sent as a JSON string. The daemon owns the syntax (CIDR, ports...). */
	CTL_OPT_STRING,
	/* Positive decimal integer (a rule id, seconds), sent as a JSON integer. */
	CTL_OPT_INT,
	/* An integer >= 0 (a priority, where 0 is the highest). */
	CTL_OPT_UINT,
	/* Takes no value; sent as true when given. */
	CTL_OPT_FLAG,
};

#define CTL_OPT_REQUIRED (1u << 0)
/* Given as a bare word in table order (`del ID`) instead of `--name VALUE`. */
#define CTL_OPT_POSITIONAL (1u << 1)

struct ctl_opt {
	const char *name; /* long option without "--", and the JSON member name */
	char short_name; /* `-f FILE`; 0 when none */
	enum ctl_opt_type type;
	unsigned int flags;
	const char *metavar; /* the value's placeholder in help; unused for flags */
	const char *help;
};

/* Tables end with an entry whose name is NULL. */
#define CTL_OPT_END { 0 }

/*
 * Stop at the first word that is not an option and leave it unconsumed:
 * that is how the global options in front of the command are parsed.
 */
#define CTL_PARSE_STOP_AT_WORD (1u << 0)

struct ctl_parsed {
	json_t *args; /* owned: one member per option given */
	bool help; /* -h or --help was given; args is then incomplete */
	int next; /* index in argv of the first argument not consumed */
};

/*
 * Parses argv[0..argc) against opts into out->args. Returns 0, or -EINVAL
 * with a message for a usage error (unknown or duplicate option, missing
 * value, missing required option, bad integer), -ENOMEM. Value syntax beyond
 * that is left to the daemon, which says what is wrong in its own words.
 * On success the caller owns out->args (json_decref).
 */
int ctl_opts_parse(const struct ctl_opt *opts, int argc, char **argv,
		   unsigned int flags, struct ctl_parsed *out, struct ctl_err *err);

/*
 * The option that "--name" or "--name=VALUE" names in opts, or NULL; lets a
 * caller explain an option that belongs to another table.
 */
const struct ctl_opt *ctl_opts_lookup(const struct ctl_opt *opts, const char *arg);

/* The synopsis after the command name, wrapped to fit 80 columns. */
void ctl_opts_print_synopsis(FILE *out, const char *prefix, const struct ctl_opt *opts);

/* One aligned line per option: "  --name VALUE   help". */
void ctl_opts_print_help(FILE *out, const struct ctl_opt *opts);

#endif
