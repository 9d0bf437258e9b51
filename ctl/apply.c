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

/* The whole file ("-": standard input); the daemon parses and validates it. */
static char *read_document(const char *file, size_t *len, struct ctl_err *err)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	size_t cap = 1 << 16, n = 0;
	char *buf = NULL, *grown;

	if (!f) {
		ctl_err_set(err, errno, "cannot open %s: %s", file, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (!(grown = realloc(buf, cap + 1))) {
			ctl_err_set(err, ENOMEM, "out of memory");
			goto fail;
		}
		buf = grown;
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		cap *= 2;
	}
	if (ferror(f)) {
		ctl_err_set(err, EIO, "cannot read %s", file);
		goto fail;
	}
	if (f != stdin)
		fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	if (f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

/* Bytes c takes inside a JSON string. */
static size_t escaped_len(unsigned char c)
{
	if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
		return 2;
	return c < 0x20 ? 6 : 1;
}

/*
 * Where the part starting at text ends: CTL_APPLY_CHUNK bytes once escaped,
 * at most, and never inside a UTF-8 sequence (a JSON string must be valid).
 */
static size_t part_end(const char *text, size_t len)
{
	size_t i = 0, escaped = 0, cut = 0;

	while (i < len && escaped + escaped_len((unsigned char)text[i]) <= CTL_APPLY_CHUNK) {
		escaped += escaped_len((unsigned char)text[i]);
		i++;
		if (i == len || (unsigned char)text[i] < 0x80 || (unsigned char)text[i] >= 0xc0)
			cut = i;
	}
	return i == len ? len : cut;
}

/* One request on the open connection. */
static int exchange(int fd, json_t *args, int timeout_ms, json_t **result, struct ctl_err *err)
{
	size_t req_len;
	char *req;
	int rc;

	if (!args)
		return ctl_err_set(err, ENOMEM, "out of memory");
	rc = ctl_request_format("apply", args, &req, &req_len, err);
	if (rc)
		return rc;
	rc = ctl_exchange_parse(fd, req, req_len, timeout_ms, result, err);
	free(req);
	return rc;
}

int ctl_apply_send(const char *socket_path, json_t *args, int timeout_ms, json_t **result,
		   struct ctl_err *err)
{
	const char *file = json_string_value(json_object_get(args, "file"));
	bool dry = json_is_true(json_object_get(args, "dry-run"));
	size_t len, off = 0;
	char txn[64], *text;
	int fd, rc;

	text = read_document(file ? file : "-", &len, err);
	if (!text)
		return -EINVAL;
	rc = ctl_connect(socket_path, timeout_ms, &fd, err);
	if (rc) {
		free(text);
		return rc;
	}
	/* Parts travel under one name; the daemon applies the whole document at the end. */
	snprintf(txn, sizeof(txn), "sluicectl-%d-%ld", (int)getpid(), (long)time(NULL));
	do {
		size_t end = off + part_end(text + off, len - off);
		bool last = end == len;
		json_t *part = json_stringn(text + off, end - off), *a, *staged = NULL;

		if (!part) {
			rc = ctl_err_set(err, EINVAL, "%s is not valid UTF-8", file ? file : "stdin");
			break;
		}
		a = json_pack("{s:o, s:s, s:b, s:b}", "document", part, "txn", txn, "more", !last,
			      "dry-run", dry);
		rc = exchange(fd, a, timeout_ms, last ? result : &staged, err);
		json_decref(a);
		json_decref(staged);
		off = end;
	} while (!rc && off < len);
	close(fd);
	free(text);
	return rc;
}
