// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "ctl_err.h"
#include "render.h"
#include "table.h"

#define RULE_COLS_MAX 9
#define CELL_MAX 160

/* The rule fields that say what a rule matches, in the order people read them. */
static const char *const match_fields[] = {
	"src", "dst", "proto", "sport", "dport", "ether-type",
};

const char *ctl_json_text(const json_t *v, char *buf, size_t len)
{
	size_t n;

	switch (v ? json_typeof(v) : JSON_NULL) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		return buf;
	case JSON_TRUE:
		return "yes";
	case JSON_FALSE:
		return "no";
	case JSON_OBJECT:
	case JSON_ARRAY:
		/* Not in protocol 1; show it rather than hide it. */
		n = json_dumpb(v, buf, len - 1, JSON_COMPACT);
		buf[n < len - 1 ? n : len - 1] = '\0';
		return buf;
	case JSON_NULL:
	default:
		return "-";
	}
}

void ctl_format_match(const json_t *rule, char *buf, size_t len)
{
	size_t i, used = 0;
	char tmp[CELL_MAX];

	buf[0] = '\0';
	for (i = 0; i < sizeof(match_fields) / sizeof(match_fields[0]); i++) {
		const json_t *v = json_object_get(rule, match_fields[i]);
		int n;

		if (!v || json_is_null(v))
			continue;
		n = snprintf(buf + used, len - used, "%s%s %s", used ? " " : "",
			     match_fields[i], ctl_json_text(v, tmp, sizeof(tmp)));
		if (n < 0 || (size_t)n >= len - used)
			break; /* truncated, still terminated */
		used += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

void ctl_format_duration(uint64_t s, char *buf, size_t len)
{
	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m %02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h %02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d %" PRIu64 "h", s / 86400, s / 3600 % 24);
}

int ctl_render_json(FILE *out, const json_t *result)
{
	if (json_dumpf(result, out, JSON_ENCODE_ANY) || fputc('\n', out) == EOF)
		return -EIO;
	return 0;
}

int ctl_render_hello(FILE *out, const json_t *args, const json_t *result)
{
	const json_t *cmds = json_object_get(result, "commands"), *c;
	char b1[CELL_MAX], b2[CELL_MAX];
	size_t i;

	(void)args;
	fprintf(out, "sluiced %s, protocol %s\n",
		ctl_json_text(json_object_get(result, "version"), b1, sizeof(b1)),
		ctl_json_text(json_object_get(result, "protocol"), b2, sizeof(b2)));
	if (json_is_array(cmds)) {
		fputs("commands:", out);
		json_array_foreach(cmds, i, c)
			fprintf(out, " %s", ctl_json_text(c, b1, sizeof(b1)));
		fputc('\n', out);
	}
	return 0;
}

static int render_id_line(FILE *out, const char *verb, const json_t *id)
{
	if (!json_is_integer(id))
		return -EPROTO;
	fprintf(out, "%s rule %" JSON_INTEGER_FORMAT "\n", verb, json_integer_value(id));
	return 0;
}

int ctl_render_added(FILE *out, const json_t *args, const json_t *result)
{
	(void)args;
	return render_id_line(out, "added", json_object_get(result, "id"));
}

int ctl_render_deleted(FILE *out, const json_t *args, const json_t *result)
{
	const json_t *id = json_object_get(result, "id");

	return render_id_line(out, "deleted", id ? id : json_object_get(args, "id"));
}

/* Appends " NAME VALUE" for a translation member that is set. */
static void append_member(const json_t *rule, const char *member, const char *label, char *buf,
			  size_t len)
{
	const json_t *v = json_object_get(rule, member);
	size_t used = strlen(buf);
	char tmp[CELL_MAX];

	if (v && !json_is_null(v) && used < len)
		snprintf(buf + used, len - used, " %s %s", label, ctl_json_text(v, tmp, sizeof(tmp)));
}

/* "drop"; a redirect as "MODE to IF2"; a rewrite as "rewrite dst 10.0.1.5 dport 80, MODE to IF2". */
static void format_action(const json_t *rule, char *buf, size_t len)
{
	char b1[CELL_MAX], b2[CELL_MAX];
	const char *kind = json_string_value(json_object_get(rule, "kind"));
	const json_t *to = json_object_get(rule, "to");
	const json_t *mode = json_object_get(rule, "mode");
	size_t used;

	buf[0] = '\0';
	if (kind && !strcmp(kind, "rewrite")) {
		snprintf(buf, len, "rewrite");
		append_member(rule, "to-src", "src", buf, len);
		append_member(rule, "to-sport", "sport", buf, len);
		append_member(rule, "to-dst", "dst", buf, len);
		append_member(rule, "to-dport", "dport", buf, len);
		to = json_object_get(rule, "redirect");
		if (!json_is_string(mode))
			return;
		used = strlen(buf);
		if (used < len)
			snprintf(buf + used, len - used, ",");
	} else if (!json_is_string(mode)) {
		snprintf(buf, len, "%s", ctl_json_text(json_object_get(rule, "kind"), b1, sizeof(b1)));
		return;
	}
	used = strlen(buf);
	if (used >= len)
		return;
	if (json_is_string(to))
		snprintf(buf + used, len - used, "%s%s to %s", used ? " " : "",
			 ctl_json_text(mode, b1, sizeof(b1)), ctl_json_text(to, b2, sizeof(b2)));
	else
		snprintf(buf + used, len - used, "%s%s", used ? " " : "",
			 ctl_json_text(mode, b1, sizeof(b1)));
}

/*
 * One row per item of result's "rules" array. fields[c] names each column's
 * member; a NULL field is the match column, written out from the rule's
 * match members, and ACTION_FIELD the action column.
 */
#define ACTION_FIELD "@action"

static int render_rules_table(FILE *out, const json_t *result, const char *const *headers,
			      const char *const *fields, size_t ncols, unsigned right_aligned)
{
	const json_t *rules = json_object_get(result, "rules"), *rule;
	char bufs[RULE_COLS_MAX][CELL_MAX], match[512];
	const char *cells[RULE_COLS_MAX];
	struct ctl_table t;
	size_t i, c;
	int ret = 0;

	if (!json_is_array(rules))
		return -EPROTO;
	if (!json_array_size(rules)) {
		fputs("no rules\n", out);
		return 0;
	}
	ctl_table_init(&t, headers, ncols, right_aligned);
	json_array_foreach(rules, i, rule) {
		for (c = 0; c < ncols; c++) {
			if (fields[c] && !strcmp(fields[c], ACTION_FIELD)) {
				format_action(rule, bufs[c], CELL_MAX);
				cells[c] = bufs[c];
			} else if (fields[c]) {
				cells[c] = ctl_json_text(json_object_get(rule, fields[c]), bufs[c],
							 CELL_MAX);
			} else {
				ctl_format_match(rule, match, sizeof(match));
				cells[c] = match;
			}
		}
		ret = ctl_table_add(&t, cells);
		if (ret)
			break;
	}
	if (!ret)
		ctl_table_print(&t, out, "");
	ctl_table_free(&t);
	return ret;
}

int ctl_render_list(FILE *out, const json_t *args, const json_t *result)
{
	static const char *const headers[] = {
		"ID", "ACTION", "IFACE", "NETNS", "HOOK", "MATCH", "NAME", "PACKETS", "BYTES",
	};
	static const char *const fields[] = {
		"id", ACTION_FIELD, "iface", "netns", "hook", NULL, "name", "packets", "bytes",
	};

	(void)args;
	return render_rules_table(out, result, headers, fields, 9, 1u << 0 | 1u << 7 | 1u << 8);
}

int ctl_render_stats(FILE *out, const json_t *args, const json_t *result)
{
	static const char *const headers[] = { "ID", "KIND", "PACKETS", "BYTES", "FALLBACKS",
					       "NEIGH-MISSES", "NAT-FAILURES" };
	static const char *const fields[] = { "id", "kind", "packets", "bytes", "fallbacks",
					      "neigh_misses", "nat_failures" };

	(void)args;
	return render_rules_table(out, result, headers, fields, 7, 0x7d);
}

/* json_equal() calls two absent members different; here they are the same. */
static int same(const json_t *a, const json_t *b)
{
	if (!a || !b)
		return (a ? json_is_null(a) : 1) && (b ? json_is_null(b) : 1);
	return json_equal(a, b);
}

static int same_iface(const json_t *h1, const json_t *h2)
{
	return same(json_object_get(h1, "iface"), json_object_get(h2, "iface")) &&
	       same(json_object_get(h1, "netns"), json_object_get(h2, "netns"));
}

static int render_hook_table(FILE *out, const json_t *hooks)
{
	static const char *const headers[] = {
		"IFACE", "NETNS", "HOOK", "MODE", "PROG", "RULES", "SHAPES",
	};
	static const char *const fields[] = {
		"iface", "netns", "hook", "mode", "prog_id", "rules", "shapes",
	};
	char bufs[7][CELL_MAX];
	const char *cells[7];
	struct ctl_table t;
	const json_t *hook;
	size_t i, c;
	int ret = 0;

	ctl_table_init(&t, headers, 7, 1u << 4 | 1u << 5 | 1u << 6);
	json_array_foreach(hooks, i, hook) {
		for (c = 0; c < 7; c++)
			cells[c] = ctl_json_text(json_object_get(hook, fields[c]), bufs[c], CELL_MAX);
		ret = ctl_table_add(&t, cells);
		if (ret)
			goto out;
	}
	ctl_table_print(&t, out, "");
out:
	ctl_table_free(&t);
	return ret;
}

/*
 * Adds the programs listed in one "attached" member, skipping those already
 * seen: every hook entry of an interface carries the same list. A string
 * instead of a list is why the daemon could not look; *note keeps it.
 */
static int add_attached(struct ctl_table *t, json_t *seen, json_t *attached,
			const char **note)
{
	static const char *const fields[] = { "hook", "mode", "priority", "prog_id", "name" };
	char bufs[5][CELL_MAX];
	const char *cells[6];
	size_t i, k, c;
	json_t *prog, *s;
	int ret;

	if (json_is_string(attached) && !*note)
		*note = json_string_value(attached);
	json_array_foreach(attached, i, prog) {
		json_array_foreach(seen, k, s)
			if (json_equal(s, prog))
				break;
		if (k < json_array_size(seen))
			continue;
		if (json_array_append(seen, prog))
			return -ENOMEM;
		for (c = 0; c < 5; c++)
			cells[c] = ctl_json_text(json_object_get(prog, fields[c]), bufs[c], CELL_MAX);
		cells[5] = json_is_true(json_object_get(prog, "sluice")) ? "sluice" : "other";
		ret = ctl_table_add(t, cells);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * What is attached to owner's interface, from the hook entries at or after
 * first and from the "interface" member (status --iface), when they are
 * about the same interface.
 */
static int render_attached(FILE *out, const json_t *owner, const json_t *hooks, size_t first,
			   const json_t *iface_obj)
{
	static const char *const headers[] = { "HOOK", "MODE", "PRIO", "PROG", "NAME", "OWNER" };
	const json_t *netns = json_object_get(owner, "netns");
	char b1[CELL_MAX], b2[CELL_MAX];
	json_t *seen = json_array();
	const char *note = NULL;
	struct ctl_table t;
	size_t i;
	int ret = 0;

	if (!seen)
		return -ENOMEM;
	ctl_table_init(&t, headers, 6, 1u << 2 | 1u << 3);
	for (i = first; !ret && i < json_array_size(hooks); i++)
		if (same_iface(owner, json_array_get(hooks, i)))
			ret = add_attached(&t, seen, json_object_get(json_array_get(hooks, i),
								     "attached"), &note);
	if (!ret && iface_obj && same_iface(owner, iface_obj))
		ret = add_attached(&t, seen, json_object_get(iface_obj, "attached"), &note);
	if (ret)
		goto out;
	/* An interface asked about by name is reported even when bare. */
	if (!t.nrows && !note && owner != iface_obj)
		goto out;

	fprintf(out, "\nattached to %s",
		ctl_json_text(json_object_get(owner, "iface"), b1, sizeof(b1)));
	if (netns && !json_is_null(netns))
		fprintf(out, " in netns %s", ctl_json_text(netns, b2, sizeof(b2)));
	if (t.nrows) {
		fputs(":\n", out);
		ctl_table_print(&t, out, "  ");
	} else if (note) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", note);
		ctl_sanitize(msg);
		fprintf(out, ": cannot tell (%s)\n", msg);
	} else {
		fputs(": nothing\n", out);
	}
out:
	ctl_table_free(&t);
	json_decref(seen);
	return ret;
}

int ctl_render_status(FILE *out, const json_t *args, const json_t *result)
{
	const json_t *hooks = json_object_get(result, "hooks");
	const json_t *iface_obj = json_object_get(result, "interface");
	const json_t *uptime = json_object_get(result, "uptime_s");
	const json_t *rules = json_object_get(result, "rules");
	char b1[CELL_MAX], b2[CELL_MAX], b3[CELL_MAX], up[CELL_MAX];
	bool iface_shown = false;
	size_t i, j;
	int ret = 0;

	(void)args;
	if (json_is_integer(uptime) && json_integer_value(uptime) >= 0)
		ctl_format_duration((uint64_t)json_integer_value(uptime), up, sizeof(up));
	else
		snprintf(up, sizeof(up), "-");
	fprintf(out, "sluiced %s, pid %s, up %s, %s rule%s\n",
		ctl_json_text(json_object_get(result, "version"), b1, sizeof(b1)),
		ctl_json_text(json_object_get(result, "pid"), b2, sizeof(b2)), up,
		ctl_json_text(rules, b3, sizeof(b3)),
		json_is_integer(rules) && json_integer_value(rules) == 1 ? "" : "s");
	if (json_object_get(result, "socket") || json_object_get(result, "bpffs"))
		fprintf(out, "socket %s, bpffs %s\n",
			ctl_json_text(json_object_get(result, "socket"), b1, sizeof(b1)),
			ctl_json_text(json_object_get(result, "bpffs"), b2, sizeof(b2)));

	if (json_array_size(hooks)) {
		fputc('\n', out);
		ret = render_hook_table(out, hooks);
	} else {
		fputs("no hooks in use\n", out);
	}
	for (i = 0; !ret && i < json_array_size(hooks); i++) {
		const json_t *hook = json_array_get(hooks, i);

		for (j = 0; j < i; j++)
			if (same_iface(json_array_get(hooks, j), hook))
				break;
		if (j < i)
			continue;
		if (iface_obj && same_iface(hook, iface_obj))
			iface_shown = true;
		ret = render_attached(out, hook, hooks, i, iface_obj);
	}
	if (!ret && json_is_object(iface_obj) && !iface_shown)
		ret = render_attached(out, iface_obj, NULL, 0, iface_obj);
	return ret;
}
