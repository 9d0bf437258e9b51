/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One request line in, one reply line out. No I/O here, so the protocol is
 * tested without sockets.
 */
#ifndef SLUICE_PROTOCOL_H
#define SLUICE_PROTOCOL_H

#include <stddef.h>

#include "daemon.h"

#define SL_PROTOCOL_VERSION 1
#define SL_MAX_LINE 65536 /* bytes, newline included */

/* Returns the reply (without newline), malloc()ed; NULL only when out of memory. */
char *sl_protocol_handle(struct sl_daemon *d, const char *line, size_t len);

/* The reply for a line that broke the framing (too long). */
char *sl_protocol_error_reply(const char *code, const char *message);

#endif
