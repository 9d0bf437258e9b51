/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `sluicectl apply -f FILE`: a rule set document (export's form) sent to
 * the daemon as text, in parts when it is larger than one request line.
 */
#ifndef SLUICECTL_APPLY_H
#define SLUICECTL_APPLY_H

#include <jansson.h>

#include "ctl_err.h"

/* Bytes of the document per request, escaped: well inside the daemon's 64 KiB line. */
#define CTL_APPLY_CHUNK 61440

/*
 * Reads args' "file" ("-": standard input), sends its text (the daemon
 * parses and validates it) and returns the daemon's result. Errors about
 * the file come with -EINVAL.
 */
int ctl_apply_send(const char *socket_path, json_t *args, int timeout_ms, json_t **result,
		   struct ctl_err *err);

#endif
