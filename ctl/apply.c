// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "client.h"

static json_t *load_document(const char *file, struct ctl_err *err)
{
	json_error_t jerr;
	json_t *doc, *rules;

	doc = strcmp(file, "-") ? json_load_file(file, JSON_REJECT_DUPLICATES, &jerr)
				: json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		ctl_err_set(err, EINVAL, "%s: line %d: %s", strcmp(file, "-") ? file : "stdin",
			    jerr.line, jerr.text);
		return NULL;
	}
	rules = json_object_get(doc, "rules");
	if (!json_is_object(doc) || !json_is_array(rules)) {
		json_decref(doc);
		ctl_err_set(err, EINVAL, "%s: expected {\"rules\": [...]}, as `sluicectl export` prints",
			    file);
		return NULL;
	}
	return doc;
}

/* One request on the open connection; *result only for the last. */
static int exchange(int fd, json_t *args, int timeout_ms, json_t **result, struct ctl_err *err)
{
	size_t req_len, reply_len;
	char *req, *reply;
	int rc;

	rc = ctl_request_format("apply", args, &req, &req_len, err);
	if (rc)
		return rc;
	rc = ctl_exchange(fd, req, req_len, timeout_ms, CTL_MAX_REPLY, &reply, &reply_len, err);
	free(req);
	if (rc)
		return rc;
	rc = ctl_reply_parse(reply, reply_len, result, err);
	free(reply);
	return rc;
}

int ctl_apply_send(const char *socket_path, json_t *args, int timeout_ms, json_t **result,
		   struct ctl_err *err)
{
	const char *file = json_string_value(json_object_get(args, "file"));
	bool dry = json_is_true(json_object_get(args, "dry-run"));
	json_t *doc, *rules, *chunk, *part = NULL;
	size_t i, bytes = 0;
	char txn[64];
	int fd, rc;

	doc = load_document(file ? file : "-", err);
	if (!doc)
		return -EINVAL;
	rc = ctl_connect(socket_path, timeout_ms, &fd, err);
	if (rc) {
		json_decref(doc);
		return rc;
	}
	snprintf(txn, sizeof(txn), "sluicectl-%d-%ld", (int)getpid(), (long)time(NULL));
	rules = json_object_get(doc, "rules");
	chunk = json_array();
	for (i = 0; !rc && i < json_array_size(rules); i++) {
		json_t *rule = json_array_get(rules, i);
		char *text = json_dumps(rule, JSON_COMPACT);
		size_t len = text ? strlen(text) + 1 : 0;

		free(text);
		if (!len) {
			rc = ctl_err_set(err, EINVAL, "rules[%zu] cannot be encoded", i);
			break;
		}
		/* Parts travel under one name; the daemon applies them together at the end. */
		if (bytes && bytes + len > CTL_APPLY_CHUNK) {
			json_t *a = json_pack("{s:O, s:b, s:s}", "rules", chunk, "more", 1, "txn", txn);

			rc = a ? exchange(fd, a, timeout_ms, &part, err)
			       : ctl_err_set(err, ENOMEM, "out of memory");
			json_decref(a);
			json_decref(part);
			part = NULL;
			json_array_clear(chunk);
			bytes = 0;
		}
		json_array_append(chunk, rule);
		bytes += len;
	}
	if (!rc) {
		json_t *a = json_pack("{s:O, s:b, s:s}", "rules", chunk, "dry-run", dry, "txn", txn);

		rc = a ? exchange(fd, a, timeout_ms, result, err)
		       : ctl_err_set(err, ENOMEM, "out of memory");
		json_decref(a);
	}
	close(fd);
	json_decref(chunk);
	json_decref(doc);
	return rc;
}
