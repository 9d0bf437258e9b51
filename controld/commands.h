/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The protocol's commands: name, accepted arguments, handler. */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

#include <jansson.h>

#include "daemon.h"

typedef int (*sl_command_fn)(struct sl_daemon *d, json_t *args, json_t **result,
			     struct sl_err *err);

struct sl_command {
	const char *name;
	sl_command_fn fn;
	const char *const *args; /* NULL-terminated */
};

const struct sl_command *sl_command_find(const char *name);
/* All commands, terminated by an entry with a NULL name. */
const struct sl_command *sl_command_table(void);

#endif
