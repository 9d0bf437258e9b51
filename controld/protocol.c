// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
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

static char *error_reply(json_t *id, const char *code, const char *message)
{
	char text[SL_ERR_MSG_MAX];

	snprintf(text, sizeof(text), "%s", message);
	sl_utf8_trim(text);
	message = text;
	return dump(json_pack("{s:O, s:b, s:{s:s, s:s}}", "id", id ? id : json_null(), "ok", 0,
			      "error", "code", code, "message", message));
}

char *sl_protocol_error_reply(const char *code, const char *message)
{
	return error_reply(NULL, code, message);
}

char *sl_protocol_handle(struct sl_daemon *d, const char *line, size_t len)
{
	static const char *const envelope[] = { "id", "cmd", "args", NULL };
	const struct sl_command *cmd;
	struct sl_err err = { 0 };
	json_t *req, *id, *args, *result = NULL;
	json_error_t jerr;
	const char *name;
	char *reply;
	int rc;

	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		char msg[SL_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return error_reply(NULL, "EPROTO", msg);
	}
	if (!json_is_object(req)) {
		json_decref(req);
		return error_reply(NULL, "EPROTO", "a request must be a JSON object");
	}
	id = json_object_get(req, "id");
	if (args_check_known(req, envelope, "a request", &err) ||
	    args_string(req, "cmd", true, &name, &err)) {
		reply = error_reply(id, sl_errno_name(err.code), err.msg);
		json_decref(req);
		return reply;
	}
	cmd = sl_command_find(name);
	if (!cmd) {
		sl_err_set(&err, ENOSYS, "unknown command '%s'", name);
		reply = error_reply(id, "ENOSYS", err.msg);
		json_decref(req);
		return reply;
	}
	args = json_object_get(req, "args");
	if (args && !json_is_object(args) && !json_is_null(args)) {
		reply = error_reply(id, "EINVAL", "'args' must be an object");
		json_decref(req);
		return reply;
	}
	if (!args || json_is_null(args))
		args = json_object();
	else
		json_incref(args);

	rc = args_check_known(args, cmd->args, cmd->name, &err);
	if (!rc)
		rc = cmd->fn(d, args, &result, &err);
	if (rc) {
		if (!err.code)
			sl_err_set(&err, -rc, "%s failed", cmd->name);
		sl_log(SL_LOG_DEBUG, "%s: %s: %s", cmd->name, sl_errno_name(err.code), err.msg);
		reply = error_reply(id, sl_errno_name(err.code), err.msg);
	} else {
		reply = dump(json_pack("{s:O, s:b, s:o}", "id", id ? id : json_null(), "ok", 1,
				       "result", result ? result : json_object()));
	}
	json_decref(args);
	json_decref(req);
	return reply;
}
