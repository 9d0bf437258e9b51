// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ruleset_doc.h"
#include "sl_log.h"
#include "state.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int sl_state_save(struct sl_daemon *d, struct sl_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	json_t *doc = sl_doc_export(d->rules, true);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	int fd = -1, dfd, rc = 0;

	json_decref(doc);
	if (!text)
		return sl_err_set(err, ENOMEM, "out of memory");
	if (snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_STATE_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", d->state_dir, SL_STATE_FILE) >= (int)sizeof(tmp)) {
		free(text);
		return sl_err_set(err, ENAMETOOLONG, "state dir path is too long");
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = -errno;
	if (!rc)
		rc = write_all(fd, text, strlen(text));
	if (!rc)
		rc = write_all(fd, "\n", 1);
	if (!rc && fsync(fd))
		rc = -errno;
	if (fd >= 0 && close(fd) && !rc)
		rc = -errno;
	free(text);
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return sl_err_set(err, -rc, "cannot save %s: %s", path, strerror(-rc));
	}
	/* The rename itself is durable only once the directory is. */
	dfd = open(d->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd))
			rc = sl_err_set(err, errno, "cannot sync %s: %s", d->state_dir, strerror(errno));
		close(dfd);
	}
	return rc;
}

void sl_state_changed(struct sl_daemon *d)
{
	struct sl_err err = { 0 };

	if (sl_state_save(d, &err)) {
		if (!d->state_dirty)
			sl_log(SL_LOG_ERROR, "%s; the rule set in use will be saved when possible",
			       err.msg);
		d->state_dirty = true;
		return;
	}
	if (d->state_dirty)
		sl_log(SL_LOG_INFO, "state saved again");
	d->state_dirty = false;
}

int sl_state_load(struct sl_daemon *d, bool *found, struct sl_err *err)
{
	char path[PATH_MAX];
	struct sl_doc doc;
	json_error_t jerr;
	json_t *root;
	int rc;

	*found = false;
	if (snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_STATE_FILE) >= (int)sizeof(path))
		return sl_err_set(err, ENAMETOOLONG, "state dir path is too long");
	if (access(path, F_OK)) {
		if (errno == ENOENT)
			return 0;
		return sl_err_set(err, errno, "cannot read state file %s: %s", path, strerror(errno));
	}
	*found = true;
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return sl_err_set(err, EINVAL, "state file %s is damaged (line %d: %s)", path,
				  jerr.line, jerr.text);
	rc = sl_doc_parse(root, true, &doc, err);
	json_decref(root);
	if (rc) {
		char msg[SL_ERR_MSG_MAX];

		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sl_err_set(err, EINVAL, "state file %s is damaged: %s", path, msg);
	}
	for (size_t i = 0; i < doc.n; i++) {
		struct sl_err e = { 0 };
		uint64_t id;

		rc = sl_ruleset_add_detached(d->rules, &doc.rules[i].spec, doc.rules[i].id,
					     doc.rules[i].slot, &id, &e);
		if (rc) {
			sl_err_set(err, EINVAL, "state file %s: rule %llu: %s", path,
				   (unsigned long long)doc.rules[i].id, e.msg);
			sl_doc_free(&doc);
			return -EINVAL;
		}
	}
	sl_ruleset_set_next_id(d->rules, doc.next_id);
	sl_log(SL_LOG_INFO, "loaded %zu rules from %s", doc.n, path);
	sl_doc_free(&doc);
	return 0;
}
