// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "args.h"
#include "sl_log.h"
#include "state.h"

/* Parts of a document left unfinished this long are dropped. */
#define SL_STAGING_TIMEOUT_S 60
/* The largest document sluiced takes in parts. */
#define SL_STAGING_MAX (512u << 20)

static void staging_reset(struct sl_daemon *d)
{
	free(d->staging.text);
	memset(&d->staging, 0, sizeof(d->staging));
}

/*
 * Adds a part of the document's text under txn. With more, it is kept;
 * without, *text and *len get the whole text (owned by the caller).
 */
static int staging_add(struct sl_daemon *d, const char *txn, const char *part, size_t len,
		       bool more, char **text, size_t *text_len, struct sl_err *err)
{
	bool active = d->staging.txn[0] != '\0';

	if (active && time(NULL) - d->staging.touched > SL_STAGING_TIMEOUT_S) {
		sl_log(SL_LOG_WARN, "apply: dropped the unfinished transfer '%s'", d->staging.txn);
		staging_reset(d);
		active = false;
	}
	if (active && (!txn || strcmp(txn, d->staging.txn)))
		return sl_err_set(err, EBUSY, "another apply is being transferred; retry within %d s",
				  SL_STAGING_TIMEOUT_S);
	if (!active && more) {
		if (!txn || !txn[0] || strlen(txn) >= sizeof(d->staging.txn))
			return sl_err_set(err, EINVAL, "more needs txn, a name of 1-%zu bytes",
					  sizeof(d->staging.txn) - 1);
		snprintf(d->staging.txn, sizeof(d->staging.txn), "%s", txn);
	}
	if (d->staging.len + len > SL_STAGING_MAX) {
		staging_reset(d);
		return sl_err_set(err, E2BIG, "the document is larger than %u MiB",
				  SL_STAGING_MAX >> 20);
	}
	if (d->staging.len + len + 1 > d->staging.cap) {
		size_t cap = d->staging.cap ? d->staging.cap : 1 << 16;
		char *grown;

		while (cap < d->staging.len + len + 1)
			cap *= 2;
		grown = realloc(d->staging.text, cap);
		if (!grown) {
			staging_reset(d);
			return sl_err_set(err, ENOMEM, "out of memory");
		}
		d->staging.text = grown;
		d->staging.cap = cap;
	}
	memcpy(d->staging.text + d->staging.len, part, len);
	d->staging.len += len;
	d->staging.text[d->staging.len] = '\0';
	d->staging.touched = time(NULL);
	if (more)
		return 0;
	*text = d->staging.text;
	*text_len = d->staging.len;
	d->staging.text = NULL;
	staging_reset(d);
	return 0;
}

/* The document's root from the rules array or the (whole) text. */
static json_t *document_root(json_t *rules, const char *text, size_t len, struct sl_err *err)
{
	json_error_t jerr;
	json_t *root;

	if (rules)
		return json_pack("{s:O}", "rules", rules);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		sl_err_set(err, EINVAL, "document: line %d column %d: %s", jerr.line, jerr.column,
			   jerr.text);
	return root;
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int sl_cmd_apply(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	json_t *rules = json_object_get(args, "rules"), *document = json_object_get(args, "document");
	json_t *dry = json_object_get(args, "dry-run"), *more_v = json_object_get(args, "more");
	bool more = json_is_true(more_v);
	struct timespec t0, t1, t2, t3;
	char *text = NULL;
	size_t text_len = 0;
	struct sl_doc doc;
	const char *txn;
	json_t *root;
	int rc;

	if (args_string(args, "txn", false, &txn, err))
		return -EINVAL;
	if ((dry && !json_is_boolean(dry)) || (more_v && !json_is_boolean(more_v)))
		return sl_err_set(err, EINVAL, "dry-run and more must be true or false");
	if (!rules == !document)
		return sl_err_set(err, EINVAL, "give rules (an array) or document (its text)");
	if (rules && (!json_is_array(rules) || more))
		return sl_err_set(err, EINVAL, "rules: an array, in one request (parts go as document text)");
	if (document) {
		if (!json_is_string(document))
			return sl_err_set(err, EINVAL, "document: the document's text, a string");
		rc = staging_add(d, txn, json_string_value(document), json_string_length(document),
				 more, &text, &text_len, err);
		if (rc || more) {
			if (!rc)
				*result = json_pack("{s:I}", "staged", (json_int_t)d->staging.len);
			return rc;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	root = document_root(rules, text, text_len, err);
	free(text);
	if (!root)
		return err->code ? -err->code : sl_err_set(err, ENOMEM, "out of memory");
	rc = sl_doc_parse(root, false, &doc, err);
	json_decref(root);
	if (rc)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rc = sl_apply(d, &doc, json_is_true(dry), result, err);
	clock_gettime(CLOCK_MONOTONIC, &t2);
	/* An apply that changed nothing leaves the saved state as it is. */
	if (!rc && !json_is_true(dry) &&
	    (json_array_size(json_object_get(*result, "added")) ||
	     json_array_size(json_object_get(*result, "deleted"))))
		sl_state_changed(d);
	clock_gettime(CLOCK_MONOTONIC, &t3);
	sl_log(SL_LOG_DEBUG, "apply of %zu rules: parsed in %.3f s, applied in %.3f s, saved in %.3f s",
	       doc.n, seconds_between(&t0, &t1), seconds_between(&t1, &t2),
	       seconds_between(&t2, &t3));
	sl_doc_free(&doc);
	/*
	 * A big document's parse tree is freed in a million small pieces that
	 * malloc keeps; hand those pages back, or the daemon stays at its peak.
	 */
	malloc_trim(0);
	return rc;
}
