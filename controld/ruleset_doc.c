// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "commands.h"
#include "rule_args.h"
#include "ruleset_doc.h"

/* The names a rule of kind cmd may have in a document: the add's arguments, id, slot, kind. */
static bool known_member(const struct sl_command *cmd, const char *name, bool state)
{
	if (!strcmp(name, "kind") || !strcmp(name, "id") || (state && !strcmp(name, "slot")))
		return true;
	for (const char *const *a = cmd->args; *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

static int entry_parse(json_t *entry, bool state, struct sl_doc_rule *out, struct sl_err *err)
{
	const struct sl_command *cmd;
	uint64_t id = 0, slot = UINT32_MAX;
	char cmd_name[32];
	const char *kind, *name;
	uint32_t action;
	json_t *v;
	int rc;

	if (!json_is_object(entry))
		return sl_err_set(err, EINVAL, "a rule must be a JSON object");
	if (args_string(entry, "kind", true, &kind, err) ||
	    args_uint(entry, "id", false, INT64_MAX, &id, NULL, err) ||
	    (state && args_uint(entry, "slot", false, UINT32_MAX - 1, &slot, NULL, err)))
		return -EINVAL;
	if (sl_rule_kind_parse(kind, &action))
		return sl_err_set(err, EINVAL, "kind: '%s' is not drop, redirect or rewrite", kind);
	snprintf(cmd_name, sizeof(cmd_name), "add-%s", kind);
	cmd = sl_command_find(cmd_name);
	if (!cmd)
		return sl_err_set(err, ENOSYS, "no command %s", cmd_name);
	json_object_foreach(entry, name, v) {
		(void)v;
		if (!known_member(cmd, name, state))
			return sl_err_set(err, EINVAL, "unknown argument '%s' for %s", name, cmd_name);
	}
	/* The parsers read only their own members: kind, id and slot pass unseen. */
	rc = sl_rule_spec_parse(action, entry, &out->spec, err);
	if (!rc)
		rc = sl_rule_spec_check(&out->spec, err);
	if (rc)
		return rc;
	out->id = id;
	out->slot = (uint32_t)slot;
	out->canon = sl_spec_canonical(&out->spec);
	out->spec.canon = out->canon;
	if (!out->canon)
		return sl_err_set(err, ENOMEM, "out of memory");
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	uint64_t x = ((const struct sl_doc_rule *)a)->id, y = ((const struct sl_doc_rule *)b)->id;

	return x < y ? -1 : x > y;
}

int sl_doc_parse(json_t *root, bool state, struct sl_doc *doc, struct sl_err *err)
{
	static const char *const doc_keys[] = { "rules", "format", "version", "sluice", "next_id",
						"seq", NULL };
	static const char *const export_keys[] = { "rules", NULL };
	uint64_t next_id = 0, version = 0;
	json_t *rules;
	size_t i;
	int rc;

	memset(doc, 0, sizeof(*doc));
	if (!json_is_object(root))
		return sl_err_set(err, EINVAL, "the document must be a JSON object with \"rules\"");
	if (args_check_known(root, state ? doc_keys : export_keys, "the document", err))
		return -EINVAL;
	if (state) {
		const char *format;

		if (args_string(root, "format", true, &format, err) ||
		    args_uint(root, "version", true, UINT32_MAX, &version, NULL, err) ||
		    args_uint(root, "next_id", false, INT64_MAX, &next_id, NULL, err) ||
		    args_uint(root, "seq", false, INT64_MAX, &doc->seq, NULL, err))
			return -EINVAL;
		if (strcmp(format, SL_STATE_FORMAT) || version != SL_STATE_VERSION)
			return sl_err_set(err, EINVAL, "not a sluice state file of version %d",
					  SL_STATE_VERSION);
	}
	rules = json_object_get(root, "rules");
	if (!json_is_array(rules))
		return sl_err_set(err, EINVAL, "\"rules\" must be an array");
	doc->root = json_incref(root);
	doc->next_id = next_id;
	doc->rules = calloc(json_array_size(rules) + 1, sizeof(*doc->rules));
	if (!doc->rules) {
		sl_doc_free(doc);
		return sl_err_set(err, ENOMEM, "out of memory");
	}
	for (i = 0; i < json_array_size(rules); i++) {
		struct sl_err e = { 0 };

		rc = entry_parse(json_array_get(rules, i), state, &doc->rules[i], &e);
		doc->n = i + 1;
		if (rc) {
			sl_err_set(err, e.code ? e.code : EINVAL, "rules[%zu]: %s", i, e.msg);
			sl_doc_free(doc);
			return -err->code;
		}
	}
	/* Ids, where given, name one rule each. */
	if (state) {
		qsort(doc->rules, doc->n, sizeof(*doc->rules), cmp_id);
		for (i = 0; i < doc->n; i++) {
			if (!doc->rules[i].id || (i && doc->rules[i].id == doc->rules[i - 1].id)) {
				sl_err_set(err, EINVAL, "rule id %llu is missing or repeated",
					   (unsigned long long)doc->rules[i].id);
				sl_doc_free(doc);
				return -EINVAL;
			}
		}
	}
	return 0;
}

void sl_doc_free(struct sl_doc *doc)
{
	for (size_t i = 0; i < doc->n; i++)
		free(doc->rules[i].canon);
	free(doc->rules);
	json_decref(doc->root);
	memset(doc, 0, sizeof(*doc));
}

int sl_doc_parse_rule(json_t *entry, struct sl_doc_rule *out, struct sl_err *err)
{
	memset(out, 0, sizeof(*out));
	return entry_parse(entry, true, out, err);
}

json_t *sl_doc_export(struct sl_ruleset *rs)
{
	json_t *rules = json_array();

	for (size_t i = 0; rules && i < sl_ruleset_count(rs); i++) {
		json_t *item = sl_rule_to_args(sl_ruleset_at(rs, i));

		if (!item || json_array_append_new(rules, item)) {
			json_decref(rules);
			return NULL;
		}
	}
	return rules ? json_pack("{s:o}", "rules", rules) : NULL;
}
