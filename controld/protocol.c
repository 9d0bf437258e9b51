// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "commands.h"
#include "protocol.h"
#include "sl_log.h"

/* A reply that cannot be built still gets answered, so every request has exactly one. */
static const char fallback_reply[] =
	"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"EIO\",\"message\":\"sluiced could not encode its reply\"}}";

static char *dump(json_t *reply)
{
	char *out = reply ? json_dumps(reply, JSON_COMPACT) : NULL;

	json_decref(reply);
	return out ? out : strdup(fallback_reply);
}

/*
 * Replaces each byte that is not part of a valid UTF-8 sequence (as jansson
 * judges it: no overlong forms, no surrogates, nothing past U+10FFFF) with
 * '?'. jansson's own error messages quote the raw input, so "invalid escape
 * near '"\u<first byte of é>'" would otherwise make the reply unencodable.
 */
static void utf8_sanitize(char *text)
{
	unsigned char *p = (unsigned char *)text;

	while (*p) {
		unsigned int need = 0, i;
		uint32_t cp = 0;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if (*p >= 0xc2 && *p <= 0xdf) {
			need = 1;
			cp = *p & 0x1f;
		} else if (*p >= 0xe0 && *p <= 0xef) {
			need = 2;
			cp = *p & 0x0f;
		} else if (*p >= 0xf0 && *p <= 0xf4) {
			need = 3;
			cp = *p & 0x07;
		}
		/* A NUL is no continuation byte, so this never reads past the end. */
		for (i = 1; i <= need && (p[i] & 0xc0) == 0x80; i++)
			cp = cp << 6 | (p[i] & 0x3f);
		if (!need || i <= need ||
		    (need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
			*p++ = '?';
			continue;
		}
		p += need + 1;
	}
}

static char *error_reply(json_t *id, const char *code, const char *message)
{
	char text[SL_ERR_MSG_MAX];

	snprintf(text, sizeof(text), "%s", message);
	sl_utf8_trim(text);
	utf8_sanitize(text);
	message = text;
	return dump(json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", id ? id : json_null(), "ok", 0,
			      "error", "code", code, "message", message));
}

char *sl_protocol_error_reply(const char *code, const char *message)
{
	return error_reply(NULL, code, message);
}

char *sl_protocol_request_error(const struct sl_request *rq, const struct sl_err *err)
{
	return error_reply(rq ? rq->id : NULL, sl_errno_name(err->code), err->msg);
}

int sl_request_parse(const char *line, size_t len, struct sl_request *rq, struct sl_err *err)
{
	static const char *const envelope[] = { "id", "cmd", "args", NULL };
	json_error_t jerr;
	const char *name;
	json_t *args;

	memset(rq, 0, sizeof(*rq));
	rq->req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!rq->req)
		return sl_err_set(err, EPROTO, "invalid JSON at column %d: %s", jerr.column,
				  jerr.text);
	if (!json_is_object(rq->req))
		return sl_err_set(err, EPROTO, "a request must be a JSON object");
	rq->id = json_object_get(rq->req, "id");
	if (args_check_known(rq->req, envelope, "a request", err) ||
	    args_string(rq->req, "cmd", true, &name, err))
		return -EINVAL;
	rq->cmd = sl_command_find(name);
	if (!rq->cmd)
		return sl_err_set(err, ENOSYS, "unknown command '%s'", name);
	args = json_object_get(rq->req, "args");
	if (args && !json_is_object(args) && !json_is_null(args))
		return sl_err_set(err, EINVAL, "'args' must be an object");
	if (!args || json_is_null(args))
		rq->args = json_object();
	else
		rq->args = json_incref(args);
	if (!rq->args)
		return sl_err_set(err, ENOMEM, "out of memory");
	return args_check_known(rq->args, rq->cmd->args, rq->cmd->name, err);
}

void sl_request_release(struct sl_request *rq)
{
	json_decref(rq->args);
	json_decref(rq->req);
	memset(rq, 0, sizeof(*rq));
}

char *sl_protocol_handle(struct sl_daemon *d, const char *line, size_t len)
{
	struct sl_request rq;
	struct sl_err err = { 0 };
	json_t *result = NULL;
	char *reply;
	int rc;

	rc = sl_request_parse(line, len, &rq, &err);
	if (!rc)
		rc = rq.cmd->fn(d, rq.args, &result, &err);
	if (rc) {
		if (!err.code)
			sl_err_set(&err, -rc, "%s failed", rq.cmd ? rq.cmd->name : "request");
		if (rq.args) /* the command was found and its args are an object */
			sl_log(SL_LOG_DEBUG, "%s: %s: %s", rq.cmd->name, sl_errno_name(err.code),
			       err.msg);
		reply = sl_protocol_request_error(&rq, &err);
	} else {
		reply = dump(json_pack("{s:O, s:b, s:o}", "id", rq.id ? rq.id : json_null(), "ok",
				       1, "result", result ? result : json_object()));
	}
	sl_request_release(&rq);
	return reply;
}
