/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Talking to sluiced: one request line out, one reply line back, over its
 * UNIX socket (docs/protocol.md). Every wait is bounded so sluicectl never
 * hangs on a stuck daemon.
 */
#ifndef SLUICECTL_CLIENT_H
#define SLUICECTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

#include "ctl_err.h"

/* The daemon's line limit, newline included; longer lines are refused. */
#define CTL_MAX_REQUEST 65536
/* A list of every rule can be large, but not unbounded. */
#define CTL_MAX_REPLY (16u << 20)
/* sluicectl sends one request per connection, so the id is a constant. */
#define CTL_REQUEST_ID 1

/*
 * The request line {"id":1,"cmd":...,"args":{...}} plus '\n' in *line
 * (malloc'ed, NUL-terminated, *len excludes the NUL). args may be NULL.
 * Returns 0, -EMSGSIZE when the line exceeds CTL_MAX_REQUEST, -ENOMEM.
 */
int ctl_request_format(const char *cmd, json_t *args, char **line, size_t *len,
		       struct ctl_err *err);

/*
 * Connects to the daemon's socket, giving up after timeout_ms. Returns 0
 * with *fd (non-blocking, close-on-exec), or -errno with a message that
 * names path and what to check.
 */
int ctl_connect(const char *path, int timeout_ms, int *fd, struct ctl_err *err);

/*
 * Sends req and reads one reply line of at most max bytes, newline included,
 * all within timeout_ms. *reply is malloc'ed and NUL-terminated in place of
 * the newline. Returns 0, -ETIMEDOUT, -EMSGSIZE (reply too long),
 * -ECONNRESET (closed without a reply), -EPROTO (closed mid-line), -errno.
 */
int ctl_exchange(int fd, const char *req, size_t req_len, int timeout_ms, size_t max,
		 char **reply, size_t *reply_len, struct ctl_err *err);

/*
 * Interprets a reply line. Returns 0 with *result (a new reference to the
 * result object); for a refusal, the negated errno named by error.code and
 * the message "CODE: message"; -EPROTO when the line is not a valid reply.
 */
int ctl_reply_parse(const char *line, size_t len, json_t **result, struct ctl_err *err);

/* ctl_exchange (replies up to CTL_MAX_REPLY), then ctl_reply_parse. */
int ctl_exchange_parse(int fd, const char *req, size_t req_len, int timeout_ms,
		       json_t **result, struct ctl_err *err);

/* Connect, exchange, parse: one complete command. */
int ctl_call(const char *path, const char *req, size_t req_len, int timeout_ms,
	     json_t **result, struct ctl_err *err);

#endif
