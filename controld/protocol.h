/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One request line in, one reply line out. No I/O here, so the protocol is
 * tested without sockets.
 */
#ifndef SLUICE_PROTOCOL_H
#define SLUICE_PROTOCOL_H

#include <stddef.h>

#include <jansson.h>

#include "commands.h"
#include "daemon.h"
#include "sl_err.h"

#define SL_PROTOCOL_VERSION 1
#define SL_MAX_LINE 65536 /* bytes, newline included */

/* A request line, parsed and checked: what a command handler is given. */
struct sl_request {
	json_t *req;                  /* the whole request (owned), NULL if not JSON */
	json_t *id;                   /* borrowed from req; NULL when absent */
	const struct sl_command *cmd; /* NULL until the command is found */
	json_t *args;                 /* owned; an object, NULL until checked */
};

/*
 * The parsing step of sl_protocol_handle(), without running the command:
 * JSON, the envelope's members (id, cmd, args), the command's name, and
 * args against the command's argument names. Returns 0, or -errno with err
 * filled (EPROTO, ENOSYS or EINVAL). Either way rq holds what was parsed
 * (rq->id for the reply) until sl_request_release().
 */
int sl_request_parse(const char *line, size_t len, struct sl_request *rq, struct sl_err *err);
void sl_request_release(struct sl_request *rq);

/* The error reply to a request (rq NULL or without id: "id": null). */
char *sl_protocol_request_error(const struct sl_request *rq, const struct sl_err *err);

/* Returns the reply (without newline), malloc()ed; NULL only when out of memory. */
char *sl_protocol_handle(struct sl_daemon *d, const char *line, size_t len);

/* The reply for a line that broke the framing (too long). */
char *sl_protocol_error_reply(const char *code, const char *message);

#endif
