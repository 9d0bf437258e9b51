// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "render.h"

int ctl_render_export(FILE *out, const json_t *args, const json_t *result)
{
	(void)args;
	if (!json_is_array(json_object_get(result, "rules")))
		return -EPROTO;
	/* One rule per line would not be valid JSON; an indented document diffs well. */
	return json_dumpf(result, out, JSON_INDENT(2)) || fputc('\n', out) == EOF ? -EIO : 0;
}

static void print_run(FILE *out, long long first, long long last)
{
	if (first == last)
		fprintf(out, " %lld", first);
	else
		fprintf(out, " %lld-%lld", first, last);
}

/* Ids in runs: "added: 1-100000 100002", so a large apply stays one short line. */
static void print_ids(FILE *out, const char *label, const json_t *ids)
{
	long long first = 0, last = 0;
	bool open = false;
	size_t i;
	json_t *v;

	if (!json_array_size(ids))
		return;
	fprintf(out, "%s:", label);
	json_array_foreach(ids, i, v) {
		long long id;

		if (!json_is_integer(v))
			continue;
		id = json_integer_value(v);
		if (open && id == last + 1) {
			last = id;
			continue;
		}
		if (open)
			print_run(out, first, last);
		first = last = id;
		open = true;
	}
	if (open)
		print_run(out, first, last);
	fputc('\n', out);
}

int ctl_render_apply(FILE *out, const json_t *args, const json_t *result)
{
	const json_t *added = json_object_get(result, "added"),
		     *deleted = json_object_get(result, "deleted"),
		     *kept = json_object_get(result, "kept");
	bool dry = json_is_true(json_object_get(result, "dry_run"));
	size_t i;
	json_t *v;

	(void)args;
	if (!json_is_array(added) || !json_is_array(deleted) || !json_is_integer(kept))
		return -EPROTO;
	fprintf(out, "%s%zu added, %zu deleted, %lld unchanged\n", dry ? "would be: " : "",
		json_array_size(added), json_array_size(deleted),
		(long long)json_integer_value(kept));
	if (!dry) {
		print_ids(out, "added", added);
		print_ids(out, "deleted", deleted);
		print_ids(out, "detached (interface or namespace missing)",
			  json_object_get(result, "detached"));
		return 0;
	}
	print_ids(out, "would delete", deleted);
	json_array_foreach(added, i, v) {
		char *text = json_dumps(v, JSON_COMPACT);

		if (!text)
			return -ENOMEM;
		fprintf(out, "would add: %s\n", text);
		free(text);
	}
	return 0;
}

int ctl_render_flush(FILE *out, const json_t *args, const json_t *result)
{
	const json_t *n = json_object_get(result, "deleted"), *flows = json_object_get(result, "flows");

	(void)args;
	if (!json_is_integer(n))
		return -EPROTO;
	fprintf(out, "deleted %lld rules, forgot %lld translated flows\n",
		(long long)json_integer_value(n), (long long)json_integer_value(flows));
	return 0;
}
