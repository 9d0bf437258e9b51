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

/*
 * A rule as the state file and the journal hold it: its canonical form
 * (kept with it) with its id and counter slot in front, so saving builds no
 * JSON.
 */
static void print_rule(FILE *f, const struct sl_rule *r)
{
	fprintf(f, "{\"id\":%llu,", (unsigned long long)r->id);
	if (r->slot != UINT32_MAX)
		fprintf(f, "\"slot\":%u,", r->slot);
	fputs(r->canon + 1, f); /* past its '{' */
}

/* The file's text, one rule a line. */
static int write_rules(struct sl_daemon *d, int fd)
{
	FILE *f = fdopen(fd, "w");
	size_t n = sl_ruleset_count(d->rules);

	if (!f) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	fprintf(f, "{\"format\":\"%s\",\"version\":%d,\"sluice\":\"%s\",\"next_id\":%llu,\"seq\":%llu,\"rules\":[",
		SL_STATE_FORMAT, SL_STATE_VERSION, SLUICE_VERSION,
		(unsigned long long)sl_ruleset_next_id(d->rules), (unsigned long long)d->journal_seq);
	for (size_t i = 0; i < n; i++) {
		const struct sl_rule *r = sl_ruleset_at(d->rules, i);

		fputs(i ? ",\n" : "\n", f);
		print_rule(f, r);
	}
	fputs("\n]}\n", f);
	if (fflush(f) || fsync(fd)) {
		int rc = -errno;

		fclose(f);
		return rc;
	}
	return fclose(f) ? -errno : 0;
}

int sl_state_save(struct sl_daemon *d, struct sl_err *err)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, dfd, rc = 0;

	if (snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_STATE_FILE) >= (int)sizeof(path) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", d->state_dir, SL_STATE_FILE) >= (int)sizeof(tmp))
		return sl_err_set(err, ENAMETOOLONG, "state dir path is too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? -errno : write_rules(d, fd);
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
	/* Lines left by a crash here are older than "seq" and skipped on load. */
	if (!rc && snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_JOURNAL_FILE) <
			   (int)sizeof(path))
		unlink(path);
	d->journal_lines = 0;
	return rc;
}

/*
 * Appends one line, {"seq":N,"add":RULE} (r) or {"seq":N,"del":ID}, and
 * syncs it.
 */
static int journal_append(struct sl_daemon *d, const struct sl_rule *r, uint64_t del_id,
			  struct sl_err *err)
{
	char path[PATH_MAX], *text = NULL;
	size_t len = 0;
	int fd, rc = 0;
	FILE *f;

	f = open_memstream(&text, &len);
	if (!f)
		return sl_err_set(err, ENOMEM, "out of memory");
	fprintf(f, "{\"seq\":%llu,", (unsigned long long)(d->journal_seq + 1));
	if (r) {
		fputs("\"add\":", f);
		print_rule(f, r);
		fputs("}\n", f);
	} else {
		fprintf(f, "\"del\":%llu}\n", (unsigned long long)del_id);
	}
	if (fclose(f)) {
		free(text);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_JOURNAL_FILE);
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		rc = -errno;
	if (!rc)
		rc = write_all(fd, text, len);
	if (!rc && fdatasync(fd))
		rc = -errno;
	if (fd >= 0)
		close(fd);
	free(text);
	if (rc)
		return sl_err_set(err, -rc, "cannot append to %s: %s", path, strerror(-rc));
	d->journal_seq++;
	d->journal_lines++;
	return 0;
}

/* One change: a journal line, or the whole file when the journal has grown or failed. */
static void journal_change(struct sl_daemon *d, const struct sl_rule *r, uint64_t del_id)
{
	struct sl_err err = { 0 };

	if (d->state_dirty || d->journal_lines >= 1024 + sl_ruleset_count(d->rules)) {
		sl_state_changed(d);
		return;
	}
	if (journal_append(d, r, del_id, &err)) {
		sl_log(SL_LOG_ERROR, "%s; saving the whole rule set instead", err.msg);
		sl_state_changed(d);
	}
}

void sl_state_rule_added(struct sl_daemon *d, const struct sl_rule *r)
{
	journal_change(d, r, 0);
}

void sl_state_rule_deleted(struct sl_daemon *d, uint64_t id)
{
	journal_change(d, NULL, id);
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

/* One journal line; lines the snapshot already holds (seq) are skipped. */
static int journal_apply(struct sl_daemon *d, json_t *line, struct sl_err *err)
{
	json_t *add = json_object_get(line, "add"), *del = json_object_get(line, "del");
	json_t *seq = json_object_get(line, "seq");
	struct sl_doc_rule rule;
	uint64_t id;
	int rc;

	if (!json_is_integer(seq) || (!add == !del))
		return sl_err_set(err, EINVAL, "not a journal line");
	if ((uint64_t)json_integer_value(seq) <= d->journal_seq)
		return 0;
	d->journal_seq = (uint64_t)json_integer_value(seq);
	d->journal_lines++;
	if (del) {
		if (!json_is_integer(del))
			return sl_err_set(err, EINVAL, "del: not a rule id");
		if (!sl_ruleset_get(d->rules, (uint64_t)json_integer_value(del)))
			return 0;
		return sl_ruleset_del(d->rules, (uint64_t)json_integer_value(del), err);
	}
	rc = sl_doc_parse_rule(add, &rule, err);
	if (!rc)
		rc = sl_ruleset_add_detached(d->rules, &rule.spec, rule.id, rule.slot, &id, err);
	free(rule.canon);
	return rc;
}

static int journal_replay(struct sl_daemon *d, struct sl_err *err)
{
	char path[PATH_MAX], *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, SL_JOURNAL_FILE);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : sl_err_set(err, errno, "cannot read %s: %s", path,
						       strerror(errno));
	while (!rc && (len = getline(&line, &cap, f)) > 0) {
		struct sl_err e = { 0 };
		json_error_t jerr;
		json_t *j;

		n++;
		/* A line cut short by a crash is the last one, and was never acknowledged. */
		if (line[len - 1] != '\n') {
			sl_log(SL_LOG_WARN, "%s: ignoring the unfinished last line %zu", path, n);
			break;
		}
		j = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
		if (!j || journal_apply(d, j, &e))
			rc = sl_err_set(err, EINVAL, "journal %s is damaged at line %zu: %s", path, n,
					j ? e.msg : jerr.text);
		json_decref(j);
	}
	free(line);
	fclose(f);
	if (!rc && n)
		sl_log(SL_LOG_INFO, "replayed %zu changes from %s", n, path);
	return rc;
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
	d->journal_seq = doc.seq;
	sl_log(SL_LOG_INFO, "loaded %zu rules from %s", doc.n, path);
	sl_doc_free(&doc);
	return journal_replay(d, err);
}
