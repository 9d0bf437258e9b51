// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define SYNOPSIS_WIDTH 79

#if JSON_INTEGER_IS_LONG_LONG
#define CTL_JSON_INT_MAX LLONG_MAX
#else
#define CTL_JSON_INT_MAX LONG_MAX
#endif

static bool is_positional(const struct ctl_opt *o)
{
	return o->flags & CTL_OPT_POSITIONAL;
}

static const struct ctl_opt *find_long(const struct ctl_opt *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (!is_positional(opts) && strlen(opts->name) == len &&
		    !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

static const struct ctl_opt *find_short(const struct ctl_opt *opts, char c)
{
	for (; opts->name; opts++)
		if (!is_positional(opts) && opts->short_name && opts->short_name == c)
			return opts;
	return NULL;
}

static const struct ctl_opt *nth_positional(const struct ctl_opt *opts, int n)
{
	for (; opts->name; opts++)
		if (is_positional(opts) && n-- == 0)
			return opts;
	return NULL;
}

/*
 * Strict on purpose: "1e3", " 7", "+7" or "7x" are more likely typos than
 * intent, and a rule ID that silently became another would delete the wrong rule.
 */
static int parse_uint(const char *text, bool zero_ok, json_int_t *out)
{
	unsigned long long v;
	const char *p;
	char *end;

	for (p = text; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	if (p == text)
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end || (v == 0 && !zero_ok) || v > (unsigned long long)CTL_JSON_INT_MAX)
		return -EINVAL;
	*out = (json_int_t)v;
	return 0;
}

/* How the person typed it, for messages: "--iface", "-f" or "ID". */
static void display_name(const struct ctl_opt *o, char *buf, size_t len)
{
	if (is_positional(o))
		snprintf(buf, len, "%s", o->metavar ? o->metavar : o->name);
	else
		snprintf(buf, len, "--%s", o->name);
}

static int set_value(const struct ctl_opt *o, const char *value, json_t *args,
		     struct ctl_err *err)
{
	char name[80];
	json_int_t n;
	json_t *v;

	display_name(o, name, sizeof(name));
	if (json_object_get(args, o->name))
		return ctl_err_set(err, EINVAL, "option '%s' given twice", name);

	switch (o->type) {
	case CTL_OPT_STRING:
		/* jansson refuses invalid UTF-8, which the wire format cannot carry. */
		v = json_string(value);
		if (!v)
			return ctl_err_set(err, EINVAL, "value of '%s' is not valid UTF-8", name);
		break;
	case CTL_OPT_INT:
	case CTL_OPT_UINT:
		if (parse_uint(value, o->type == CTL_OPT_UINT, &n))
			return ctl_err_set(err, EINVAL, "invalid %s '%s': expected a %s integer",
					   o->metavar ? o->metavar : name, value,
					   o->type == CTL_OPT_UINT ? "non-negative" : "positive");
		v = json_integer(n);
		break;
	case CTL_OPT_FLAG:
	default:
		v = json_true();
		break;
	}
	if (!v || json_object_set_new(args, o->name, v))
		return ctl_err_set(err, ENOMEM, "out of memory");
	return 0;
}

const struct ctl_opt *ctl_opts_lookup(const struct ctl_opt *opts, const char *arg)
{
	const char *eq;

	if (strncmp(arg, "--", 2) || !arg[2])
		return NULL;
	arg += 2;
	eq = strchr(arg, '=');
	return find_long(opts, arg, eq ? (size_t)(eq - arg) : strlen(arg));
}

/* One "--opt", "--opt=VALUE", "--opt VALUE", "-o VALUE" or "-oVALUE" at argv[*i]. */
static int parse_option(const struct ctl_opt *opts, int argc, char **argv, int *i,
			json_t *args, struct ctl_err *err)
{
	const char *arg = argv[*i], *value = NULL;
	const struct ctl_opt *o;
	char name[80];

	if (arg[1] == '-') {
		const char *eq = strchr(arg + 2, '=');

		o = find_long(opts, arg + 2, eq ? (size_t)(eq - arg - 2) : strlen(arg + 2));
		if (!o)
			return ctl_err_set(err, EINVAL, "unknown option '%.*s'",
					   eq ? (int)(eq - arg) : (int)strlen(arg), arg);
		if (eq)
			value = eq + 1;
	} else {
		o = find_short(opts, arg[1]);
		if (!o)
			return ctl_err_set(err, EINVAL, "unknown option '%s'", arg);
		if (arg[2])
			value = arg + 2;
	}
	display_name(o, name, sizeof(name));

	if (o->type == CTL_OPT_FLAG) {
		if (value)
			return ctl_err_set(err, EINVAL, "option '%s' takes no value", name);
		return set_value(o, NULL, args, err);
	}
	if (!value) {
		/*
		 * "--iface --src 10.0.0.0/8" is a forgotten value far more often
		 * than an interface named "--src"; "--name=--x" still works.
		 */
		if (*i + 1 >= argc)
			return ctl_err_set(err, EINVAL, "option '%s' needs a value", name);
		if (!strncmp(argv[*i + 1], "--", 2))
			return ctl_err_set(err, EINVAL,
					   "option '%s' needs a value (write %s=VALUE for a value starting with '--')",
					   name, name);
		value = argv[++*i];
	}
	if (!value[0])
		return ctl_err_set(err, EINVAL, "option '%s' needs a value", name);
	return set_value(o, value, args, err);
}

static int check_required(const struct ctl_opt *opts, const json_t *args, struct ctl_err *err)
{
	char name[80];

	for (; opts->name; opts++) {
		if (!(opts->flags & CTL_OPT_REQUIRED) || json_object_get(args, opts->name))
			continue;
		display_name(opts, name, sizeof(name));
		if (is_positional(opts))
			return ctl_err_set(err, EINVAL, "missing %s", name);
		return ctl_err_set(err, EINVAL, "missing required option '%s'", name);
	}
	return 0;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/*
 * "sluicectl add-drop --iface --help" should show help, not complain about
 * the missing value: someone asking for help is about to fix the line.
 */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++)
		if (is_help(argv[i]))
			return true;
	return false;
}

int ctl_opts_parse(const struct ctl_opt *opts, int argc, char **argv,
		   unsigned int flags, struct ctl_parsed *out, struct ctl_err *err)
{
	bool only_words = false;
	int i, npos = 0, ret = 0;

	out->help = !(flags & CTL_PARSE_STOP_AT_WORD) && wants_help(argc, argv);
	out->next = argc;
	out->args = json_object();
	if (!out->args)
		return ctl_err_set(err, ENOMEM, "out of memory");
	if (out->help)
		return 0;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct ctl_opt *o;

		if (!only_words && !strcmp(arg, "--")) {
			if (flags & CTL_PARSE_STOP_AT_WORD) {
				i++;
				break;
			}
			only_words = true;
			continue;
		}
		/* A lone "-" is a word: the usual spelling of stdin. */
		if (only_words || arg[0] != '-' || !arg[1]) {
			if (flags & CTL_PARSE_STOP_AT_WORD)
				break;
			o = nth_positional(opts, npos++);
			if (!o) {
				ret = ctl_err_set(err, EINVAL, "unexpected argument '%s'", arg);
				goto fail;
			}
			ret = set_value(o, arg, out->args, err);
			if (ret)
				goto fail;
			continue;
		}
		if (is_help(arg)) {
			out->help = true;
			return 0;
		}
		ret = parse_option(opts, argc, argv, &i, out->args, err);
		if (ret)
			goto fail;
	}
	ret = check_required(opts, out->args, err);
	if (ret)
		goto fail;
	out->next = i;
	return 0;

fail:
	json_decref(out->args);
	out->args = NULL;
	return ret;
}

/* "--iface IF", "[--netns NS]", "[--json]", "ID", "[ID]". */
static void format_synopsis_item(const struct ctl_opt *o, char *buf, size_t len)
{
	bool req = o->flags & CTL_OPT_REQUIRED;
	const char *meta = o->metavar ? o->metavar : "VALUE";

	if (is_positional(o))
		snprintf(buf, len, req ? "%s" : "[%s]", meta);
	else if (o->type == CTL_OPT_FLAG)
		snprintf(buf, len, req ? "--%s" : "[--%s]", o->name);
	else
		snprintf(buf, len, req ? "--%s %s" : "[--%s %s]", o->name, meta);
}

void ctl_opts_print_synopsis(FILE *out, const char *prefix, const struct ctl_opt *opts)
{
	size_t indent = strlen(prefix), col = indent;
	char item[160];

	fputs(prefix, out);
	for (; opts->name; opts++) {
		size_t len;

		format_synopsis_item(opts, item, sizeof(item));
		len = strlen(item);
		if (col > indent && col + 1 + len > SYNOPSIS_WIDTH) {
			fprintf(out, "\n%*s", (int)indent, "");
			col = indent;
		}
		fprintf(out, " %s", item);
		col += 1 + len;
	}
	fputc('\n', out);
}

/* "--iface IF", "-f, --file FILE", "--json", "ID". */
static void format_help_item(const struct ctl_opt *o, char *buf, size_t len)
{
	const char *meta = o->metavar ? o->metavar : "VALUE";
	char shortopt[8] = "";

	if (is_positional(o)) {
		snprintf(buf, len, "%s", meta);
		return;
	}
	if (o->short_name)
		snprintf(shortopt, sizeof(shortopt), "-%c, ", o->short_name);
	if (o->type == CTL_OPT_FLAG)
		snprintf(buf, len, "%s--%s", shortopt, o->name);
	else
		snprintf(buf, len, "%s--%s %s", shortopt, o->name, meta);
}

static void print_help_line(FILE *out, const char *item, int width, const char *help,
			    bool required)
{
	const char *p;

	fprintf(out, "  %-*s  ", width, item);
	for (p = help ? help : ""; *p; p++) {
		fputc(*p, out);
		if (*p == '\n')
			fprintf(out, "  %-*s  ", width, "");
	}
	if (required)
		fputs(" (required)", out);
	fputc('\n', out);
}

void ctl_opts_print_help(FILE *out, const struct ctl_opt *opts)
{
	const struct ctl_opt *o;
	int width = (int)strlen("-h, --help");
	char item[160];

	for (o = opts; o->name; o++) {
		format_help_item(o, item, sizeof(item));
		if ((int)strlen(item) > width)
			width = (int)strlen(item);
	}
	for (o = opts; o->name; o++) {
		format_help_item(o, item, sizeof(item));
		print_help_line(out, item, width, o->help,
				(o->flags & CTL_OPT_REQUIRED) && !is_positional(o));
	}
	print_help_line(out, "-h, --help", width, "show this help", false);
}
