// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "rule_args.h"
#include "sl_log.h"

struct canon_ref {
	const char *canon;
	size_t idx;
};

static int cmp_canon(const void *a, const void *b)
{
	const struct canon_ref *x = a, *y = b;
	int c = strcmp(x->canon, y->canon);

	return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* A deleted rule, kept to put it back if the apply fails. */
struct deleted {
	uint64_t id;
	json_t *args;
};

static void put_back(struct sl_daemon *d, struct deleted *del, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sl_rule_spec spec;
		struct sl_err err = { 0 };
		const char *kind = json_string_value(json_object_get(del[i].args, "kind"));
		uint32_t action = SL_ACTION_DROP;
		uint64_t id;

		if (!kind || sl_rule_kind_parse(kind, &action)) {
			sl_log(SL_LOG_ERROR, "apply rollback: rule %llu has no kind",
			       (unsigned long long)del[i].id);
			continue;
		}
		json_object_del(del[i].args, "kind");
		json_object_del(del[i].args, "id");
		if (sl_rule_spec_parse(action, del[i].args, &spec, &err) ||
		    sl_ruleset_add_or_detach(d->rules, &spec, del[i].id, &id, &err))
			sl_log(SL_LOG_ERROR, "apply rollback: rule %llu could not be put back: %s",
			       (unsigned long long)del[i].id, err.msg);
	}
}

int sl_apply(struct sl_daemon *d, const struct sl_doc *doc, bool dry_run, json_t **result,
	     struct sl_err *err)
{
	size_t nlive = sl_ruleset_count(d->rules), ndel = 0, nadd = 0, kept = 0, i, j;
	struct canon_ref *live = calloc(nlive + 1, sizeof(*live));
	struct canon_ref *want = calloc(doc->n + 1, sizeof(*want));
	bool *live_kept = calloc(nlive + 1, sizeof(*live_kept));
	bool *want_kept = calloc(doc->n + 1, sizeof(*want_kept));
	uint64_t *del_ids = calloc(nlive + 1, sizeof(*del_ids));
	uint64_t *added = calloc(doc->n + 1, sizeof(*added));
	struct deleted *del = calloc(nlive + 1, sizeof(*del));
	json_t *added_json = json_array(), *deleted_json = json_array(),
	       *detached_json = json_array();
	int rc = 0;

	if (!live || !want || !live_kept || !want_kept || !del_ids || !added || !del ||
	    !added_json || !deleted_json || !detached_json) {
		rc = sl_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < nlive; i++) {
		live[i].canon = sl_ruleset_at(d->rules, i)->canon;
		live[i].idx = i;
	}
	for (i = 0; i < doc->n; i++) {
		want[i].canon = doc->rules[i].canon;
		want[i].idx = i;
	}
	/* Equal rules pair up in sorted order; what is left on either side changes. */
	qsort(live, nlive, sizeof(*live), cmp_canon);
	qsort(want, doc->n, sizeof(*want), cmp_canon);
	for (i = 0, j = 0; i < nlive && j < doc->n;) {
		int c = strcmp(live[i].canon, want[j].canon);

		if (c == 0) {
			live_kept[live[i].idx] = want_kept[want[j].idx] = true;
			kept++;
			i++;
			j++;
		} else if (c < 0) {
			i++;
		} else {
			j++;
		}
	}
	for (i = 0; i < nlive; i++)
		if (!live_kept[i])
			del_ids[ndel++] = sl_ruleset_at(d->rules, i)->id;

	if (dry_run) {
		for (i = 0; i < ndel; i++)
			json_array_append_new(deleted_json, json_integer((json_int_t)del_ids[i]));
		for (i = 0; i < doc->n; i++)
			if (!want_kept[i])
				json_array_append_new(added_json, sl_spec_to_args(&doc->rules[i].spec));
		goto done;
	}

	/* Deletes first: a changed rule may keep its match, which an add would call a duplicate. */
	for (i = 0; i < ndel; i++) {
		struct sl_rule *r = sl_ruleset_get(d->rules, del_ids[i]);

		del[i].id = del_ids[i];
		del[i].args = sl_rule_to_args(r);
		if (!del[i].args || sl_ruleset_del(d->rules, del_ids[i], err)) {
			json_decref(del[i].args);
			if (!err->code)
				sl_err_set(err, ENOMEM, "out of memory");
			rc = -err->code;
			put_back(d, del, i);
			goto out;
		}
	}
	for (i = 0; i < doc->n; i++) {
		struct sl_err e = { 0 };

		if (want_kept[i])
			continue;
		rc = sl_ruleset_add_or_detach(d->rules, &doc->rules[i].spec, 0, &added[nadd], &e);
		if (rc) {
			sl_err_set(err, e.code, "rules[%zu]: %s (nothing was changed)", i, e.msg);
			for (j = 0; j < nadd; j++)
				sl_ruleset_del(d->rules, added[j], &e);
			put_back(d, del, ndel);
			goto out;
		}
		nadd++;
	}
	for (i = 0; i < ndel; i++)
		json_array_append_new(deleted_json, json_integer((json_int_t)del_ids[i]));
	for (i = 0; i < nadd; i++) {
		struct sl_rule *r = sl_ruleset_get(d->rules, added[i]);

		json_array_append_new(added_json, json_integer((json_int_t)added[i]));
		if (r && !r->installed)
			json_array_append_new(detached_json, json_integer((json_int_t)added[i]));
	}
done:
	*result = json_pack("{s:b, s:O, s:O, s:I, s:O}", "dry_run", dry_run, "added", added_json,
			    "deleted", deleted_json, "kept", (json_int_t)kept, "detached",
			    detached_json);
	if (!*result)
		rc = sl_err_set(err, ENOMEM, "out of memory");
out:
	for (i = 0; del && i < ndel; i++)
		json_decref(del[i].args);
	json_decref(added_json);
	json_decref(deleted_json);
	json_decref(detached_json);
	free(live);
	free(want);
	free(live_kept);
	free(want_kept);
	free(del_ids);
	free(added);
	free(del);
	return rc;
}
