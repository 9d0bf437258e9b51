// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Command line -> JSON arguments, for every command of the table. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "client.h"
#include "commands.h"
#include "options.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define NO_ARGS ((char *[]){ NULL })

static int count(char **argv)
{
	int n = 0;

	while (argv[n])
		n++;
	return n;
}

static const struct ctl_opt *opts_of(const char *name)
{
	const struct ctl_cmd *cmd = ctl_cmd_find(name);

	if (!cmd) {
		fprintf(stderr, "no command '%s' in the table\n", name);
		exit(1);
	}
	return cmd->opts;
}

static void expect_args_at(int line, const struct ctl_opt *opts, char **argv, const char *want)
{
	struct ctl_err err = { "" };
	struct ctl_parsed p;
	json_t *w = json_loads(want, 0, NULL);
	int ret;

	ret = ctl_opts_parse(opts, count(argv), argv, 0, &p, &err);
	CHECK_AT(line, ret == 0, "parse failed: %d %s", ret, err.msg);
	CHECK_AT(line, w != NULL, "bad expectation %s", want);
	if (!ret) {
		char *got = json_dumps(p.args, JSON_COMPACT | JSON_SORT_KEYS);

		CHECK_AT(line, !p.help, "unexpected help");
		CHECK_AT(line, json_equal(p.args, w), "got %s, want %s", got, want);
		free(got);
		json_decref(p.args);
	}
	json_decref(w);
}

static void expect_usage_at(int line, const struct ctl_opt *opts, char **argv, const char *msg)
{
	struct ctl_err err = { "" };
	struct ctl_parsed p;
	int ret;

	ret = ctl_opts_parse(opts, count(argv), argv, 0, &p, &err);
	CHECK_AT(line, ret == -EINVAL, "ret %d, want -EINVAL", ret);
	CHECK_AT(line, ret != 0 || p.args == NULL, "args left after a failure");
	CHECK_AT(line, strstr(err.msg, msg) != NULL, "message '%s' lacks '%s'", err.msg, msg);
	if (!ret)
		json_decref(p.args);
}

static void expect_help_at(int line, const struct ctl_opt *opts, char **argv)
{
	struct ctl_err err = { "" };
	struct ctl_parsed p;
	int ret;

	ret = ctl_opts_parse(opts, count(argv), argv, 0, &p, &err);
	CHECK_AT(line, ret == 0 && p.help, "ret %d help %d (%s)", ret, !ret && p.help, err.msg);
	if (!ret)
		json_decref(p.args);
}

#define expect_args(cmd, argv, want) expect_args_at(__LINE__, opts_of(cmd), argv, want)
#define expect_usage(cmd, argv, msg) expect_usage_at(__LINE__, opts_of(cmd), argv, msg)
#define expect_help(cmd, argv) expect_help_at(__LINE__, opts_of(cmd), argv)

static void test_every_command(void)
{
	expect_args("hello", NO_ARGS, "{}");
	expect_usage("hello", ARGV("extra"), "unexpected argument 'extra'");

	expect_args("status", NO_ARGS, "{}");
	expect_args("status", ARGV("--iface", "eth0", "--netns", "blue"),
		    "{\"iface\": \"eth0\", \"netns\": \"blue\"}");
	expect_usage("status", ARGV("--hook", "xdp"), "unknown option '--hook'");

	expect_args("add-drop",
		    ARGV("--iface", "eth0", "--netns", "pid:42", "--hook", "tc-egress",
			 "--src", "10.0.0.0/8", "--dst", "fd00::/64", "--proto", "tcp",
			 "--sport", "1000-2000", "--dport", "80", "--ether-type", "0x86dd",
			 "--name", "block web"),
		    "{\"iface\": \"eth0\", \"netns\": \"pid:42\", \"hook\": \"tc-egress\","
		    " \"src\": \"10.0.0.0/8\", \"dst\": \"fd00::/64\", \"proto\": \"tcp\","
		    " \"sport\": \"1000-2000\", \"dport\": \"80\", \"ether-type\": \"0x86dd\","
		    " \"name\": \"block web\"}");
	/* Numbers stay strings: the daemon owns their syntax and range. */
	expect_args("add-drop", ARGV("--iface", "eth0", "--proto", "6", "--dport", "99999"),
		    "{\"iface\": \"eth0\", \"proto\": \"6\", \"dport\": \"99999\"}");
	/* Match fields are the daemon's to require: it names what is missing. */
	expect_args("add-drop", ARGV("--iface", "eth0"), "{\"iface\": \"eth0\"}");

	expect_args("list", NO_ARGS, "{}");
	expect_args("list", ARGV("--iface", "veth0", "--netns", "/proc/1/ns/net", "--hook", "xdp"),
		    "{\"iface\": \"veth0\", \"netns\": \"/proc/1/ns/net\", \"hook\": \"xdp\"}");

	expect_args("del", ARGV("12"), "{\"id\": 12}");
	expect_args("del", ARGV("9007199254740993"), "{\"id\": 9007199254740993}");

	expect_args("stats", NO_ARGS, "{}");
	expect_args("stats", ARGV("7"), "{\"id\": 7}");
}

static void test_equals_form(void)
{
	expect_args("add-drop", ARGV("--iface=eth0", "--src=10.0.0.0/8", "--ether-type=arp"),
		    "{\"iface\": \"eth0\", \"src\": \"10.0.0.0/8\", \"ether-type\": \"arp\"}");
	/* Only the first '=' separates; and '=' allows values that look like options. */
	expect_args("add-drop", ARGV("--iface=eth0", "--name=a=b"),
		    "{\"iface\": \"eth0\", \"name\": \"a=b\"}");
	expect_args("add-drop", ARGV("--iface=eth0", "--name=--odd"),
		    "{\"iface\": \"eth0\", \"name\": \"--odd\"}");
	/* Single-dash values are values: "-" and negative numbers reach the daemon. */
	expect_args("add-drop", ARGV("--iface", "eth0", "--proto", "-1", "--name", "-"),
		    "{\"iface\": \"eth0\", \"proto\": \"-1\", \"name\": \"-\"}");
	expect_args("list", ARGV("--hook=tc-ingress"), "{\"hook\": \"tc-ingress\"}");
}

static void test_usage_errors(void)
{
	expect_usage("add-drop", ARGV("--iface", "eth0", "--bogus", "1"), "unknown option '--bogus'");
	expect_usage("add-drop", ARGV("--iface", "eth0", "--bogus=1"), "unknown option '--bogus'");
	expect_usage("add-drop", ARGV("--iface", "eth0", "-x"), "unknown option '-x'");
	expect_usage("add-drop", ARGV("--iface", "eth0", "--ether_type", "arp"),
		     "unknown option '--ether_type'");
	expect_usage("add-drop", ARGV("--iface", "eth0", "stray"), "unexpected argument 'stray'");
	expect_usage("list", ARGV("--json"), "unknown option '--json'");

	expect_usage("add-drop", ARGV("--iface"), "option '--iface' needs a value");
	expect_usage("add-drop", ARGV("--iface", "eth0", "--src"), "option '--src' needs a value");
	expect_usage("add-drop", ARGV("--iface=", "--src", "10.0.0.0/8"),
		     "option '--iface' needs a value");
	expect_usage("add-drop", ARGV("--iface", "--src", "10.0.0.0/8"),
		     "option '--iface' needs a value");

	expect_usage("add-drop", ARGV("--iface", "a", "--iface=b"), "option '--iface' given twice");
	expect_usage("add-drop", ARGV("--iface", "a", "--src", "10.0.0.0/8", "--src", "10.0.0.0/8"),
		     "option '--src' given twice");

	expect_usage("add-drop", NO_ARGS, "missing required option '--iface'");
	expect_usage("add-drop", ARGV("--src", "10.0.0.0/8"), "missing required option '--iface'");

	/* Not valid UTF-8, so it cannot be carried in a JSON string. */
	expect_usage("add-drop", ARGV("--iface", "eth0", "--name", "\xff\xfe"),
		     "value of '--name' is not valid UTF-8");
}

static void test_rule_ids(void)
{
	expect_usage("del", NO_ARGS, "missing ID");
	expect_usage("del", ARGV("abc"), "invalid ID 'abc'");
	expect_usage("del", ARGV("0"), "invalid ID '0'");
	/* A priority may be 0, the highest; it is still a number. */
	expect_args("add-redirect", ARGV("--iface", "a", "--to", "b", "--mode", "egress", "--priority", "0"),
		    "{\"iface\": \"a\", \"to\": \"b\", \"mode\": \"egress\", \"priority\": 0}");
	expect_usage("add-redirect", ARGV("--iface", "a", "--to", "b", "--mode", "egress", "--priority", "-1"),
		     "invalid N '-1': expected a non-negative integer");
	expect_usage("del", ARGV("1.5"), "invalid ID '1.5'");
	expect_usage("del", ARGV("+3"), "invalid ID '+3'");
	expect_usage("del", ARGV(" 3"), "invalid ID ' 3'");
	expect_usage("del", ARGV("12abc"), "invalid ID '12abc'");
	expect_usage("del", ARGV("0x10"), "invalid ID '0x10'");
	expect_usage("del", ARGV("9223372036854775808"), "invalid ID '9223372036854775808'");
	expect_usage("del", ARGV("99999999999999999999999"), "invalid ID");
	expect_usage("del", ARGV("-1"), "unknown option '-1'");
	expect_usage("del", ARGV("--", "-1"), "invalid ID '-1'");
	expect_usage("del", ARGV("1", "2"), "unexpected argument '2'");
	expect_usage("stats", ARGV("x"), "invalid ID 'x'");
	expect_usage("stats", ARGV("1", "2"), "unexpected argument '2'");
	expect_usage("del", ARGV("--id", "3"), "unknown option '--id'");

	expect_args("del", ARGV("--", "5"), "{\"id\": 5}");
	expect_args("del", ARGV("9223372036854775807"), "{\"id\": 9223372036854775807}");
	expect_args("del", ARGV("007"), "{\"id\": 7}");
}

static void test_help(void)
{
	const struct ctl_cmd *cmd;

	for (cmd = ctl_commands; cmd->name; cmd++) {
		expect_help_at(__LINE__, cmd->opts, ARGV("--help"));
		expect_help_at(__LINE__, cmd->opts, ARGV("-h"));
	}
	/* Help wins over errors anywhere on the line. */
	expect_help("add-drop", ARGV("--iface", "--help"));
	expect_help("add-drop", ARGV("--bogus", "--help"));
	expect_help("del", ARGV("abc", "-h"));
	/* ... except after "--", where everything is a word. */
	expect_usage("stats", ARGV("--", "--help"), "invalid ID '--help'");
}

static void test_globals(void)
{
	struct ctl_err err = { "" };
	struct ctl_parsed p;
	char **argv;
	int ret;

	argv = ARGV("--socket", "/tmp/s", "--json", "list", "--iface", "a");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_INT(p.next, 3);
		CHECK_STR(json_string_value(json_object_get(p.args, "socket")), "/tmp/s");
		CHECK(json_is_true(json_object_get(p.args, "json")));
		CHECK(json_object_get(p.args, "timeout") == NULL);
		json_decref(p.args);
	}

	argv = ARGV("--socket=/x", "--timeout=5", "--", "--weird-command");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_INT(p.next, 3);
		CHECK_INT(json_integer_value(json_object_get(p.args, "timeout")), 5);
		json_decref(p.args);
	}

	argv = ARGV("--json");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_INT(p.next, 1);
		json_decref(p.args);
	}

	argv = ARGV("--version", "status");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK(json_is_true(json_object_get(p.args, "version")));
		json_decref(p.args);
	}

	argv = ARGV("--help", "list");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK(ret == 0 && p.help);
	if (!ret)
		json_decref(p.args);

	argv = ARGV("--json=yes", "list");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, -EINVAL);
	CHECK_CONTAINS(err.msg, "option '--json' takes no value");

	argv = ARGV("--json", "--json", "list");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, -EINVAL);
	CHECK_CONTAINS(err.msg, "option '--json' given twice");

	argv = ARGV("--timeout", "0", "list");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, -EINVAL);
	CHECK_CONTAINS(err.msg, "invalid SEC '0'");

	argv = ARGV("--sock", "/x", "list");
	ret = ctl_opts_parse(ctl_global_opts, count(argv), argv, CTL_PARSE_STOP_AT_WORD, &p, &err);
	CHECK_INT(ret, -EINVAL);
	CHECK_CONTAINS(err.msg, "unknown option '--sock'");

	CHECK(ctl_opts_lookup(ctl_global_opts, "--json") != NULL);
	CHECK(ctl_opts_lookup(ctl_global_opts, "--socket=/x") != NULL);
	CHECK(ctl_opts_lookup(ctl_global_opts, "--iface") == NULL);
	CHECK(ctl_opts_lookup(ctl_global_opts, "json") == NULL);
}

/*
 * The mechanism future commands will use: short options (apply -f FILE),
 * flags, several positionals.
 */
static const struct ctl_opt future_opts[] = {
	{ "file", 'f', CTL_OPT_STRING, CTL_OPT_REQUIRED, "FILE", "rules to apply" },
	{ "dry-run", 0, CTL_OPT_FLAG, 0, NULL, "check only" },
	{ "from", 0, CTL_OPT_INT, CTL_OPT_POSITIONAL | CTL_OPT_REQUIRED, "FROM", "first" },
	{ "to", 0, CTL_OPT_INT, CTL_OPT_POSITIONAL, "TO", "last" },
	CTL_OPT_END,
};

static void test_generic_table(void)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0;

	expect_args_at(__LINE__, future_opts, ARGV("-f", "r.json", "3"),
		       "{\"file\": \"r.json\", \"from\": 3}");
	expect_args_at(__LINE__, future_opts, ARGV("4", "-fr.json", "--dry-run", "9"),
		       "{\"file\": \"r.json\", \"from\": 4, \"to\": 9, \"dry-run\": true}");
	expect_args_at(__LINE__, future_opts, ARGV("--file", "-", "1"),
		       "{\"file\": \"-\", \"from\": 1}");
	expect_usage_at(__LINE__, future_opts, ARGV("-f", "a", "-f", "b", "1"),
			"option '--file' given twice");
	expect_usage_at(__LINE__, future_opts, ARGV("-f"), "option '--file' needs a value");
	expect_usage_at(__LINE__, future_opts, ARGV("-f", "a"), "missing FROM");
	expect_usage_at(__LINE__, future_opts, ARGV("1", "-f", "a", "--dry-run=1"),
			"option '--dry-run' takes no value");
	expect_usage_at(__LINE__, future_opts, ARGV("1", "--file"), "option '--file' needs a value");
	expect_usage_at(__LINE__, future_opts, ARGV("1"), "missing required option '--file'");

	f = open_memstream(&text, &len);
	ctl_opts_print_synopsis(f, "Usage: sluicectl apply", future_opts);
	ctl_opts_print_help(f, future_opts);
	fclose(f);
	CHECK_CONTAINS(text, "Usage: sluicectl apply --file FILE [--dry-run] FROM [TO]\n");
	CHECK_CONTAINS(text, "  -f, --file FILE  rules to apply (required)\n");
	CHECK_CONTAINS(text, "  --dry-run        check only\n");
	CHECK_CONTAINS(text, "  -h, --help       show this help\n");
	free(text);
}

/* Every option of every command appears in its help, and the table is sane. */
static void test_table_and_help(void)
{
	const struct ctl_cmd *cmd;
	const struct ctl_opt *o, *o2;

	for (cmd = ctl_commands; cmd->name; cmd++) {
		char *text = NULL, want[128];
		size_t len = 0;
		FILE *f;

		CHECK_AT(__LINE__, cmd->summary && cmd->render && cmd->opts, "%s", cmd->name);
		CHECK_AT(__LINE__, ctl_cmd_find(cmd->name) == cmd, "%s", cmd->name);
		f = open_memstream(&text, &len);
		ctl_cmd_print_help(f, cmd);
		fclose(f);
		snprintf(want, sizeof(want), "Usage: sluicectl %s", cmd->name);
		CHECK_CONTAINS(text, want);
		for (o = cmd->opts; o->name; o++) {
			if (o->flags & CTL_OPT_POSITIONAL)
				snprintf(want, sizeof(want), "\n  %s ", o->metavar);
			else if (o->type == CTL_OPT_FLAG)
				snprintf(want, sizeof(want), "\n  --%s ", o->name);
			else if (o->short_name)
				snprintf(want, sizeof(want), "\n  -%c, --%s %s ", o->short_name, o->name,
					 o->metavar);
			else
				snprintf(want, sizeof(want), "\n  --%s %s ", o->name, o->metavar);
			CHECK_CONTAINS(text, want);
			CHECK_AT(__LINE__, o->help && (o->metavar || o->type == CTL_OPT_FLAG), "%s --%s",
				 cmd->name, o->name);
			for (o2 = o + 1; o2->name; o2++)
				CHECK_AT(__LINE__, strcmp(o->name, o2->name), "%s: --%s twice",
					 cmd->name, o->name);
		}
		free(text);
	}
	CHECK(ctl_cmd_find("help") == NULL);
	CHECK(ctl_cmd_find("add") == NULL);
	CHECK(ctl_cmd_find("") == NULL);
}

static void test_request_line(void)
{
	struct ctl_err err = { "" };
	struct ctl_parsed p;
	char **argv = ARGV("--iface", "eth0", "--proto", "icmp");
	char *line = NULL, *big;
	size_t len = 0;
	json_t *args;
	int ret;

	ret = ctl_opts_parse(opts_of("add-drop"), count(argv), argv, 0, &p, &err);
	CHECK_INT(ret, 0);
	if (ret)
		return;
	ret = ctl_request_format("add-drop", p.args, &line, &len, &err);
	CHECK_INT(ret, 0);
	CHECK_STR(line, "{\"id\":1,\"cmd\":\"add-drop\",\"args\":{\"iface\":\"eth0\",\"proto\":\"icmp\"}}\n");
	CHECK_INT(len, strlen(line ? line : ""));
	free(line);
	json_decref(p.args);

	ret = ctl_request_format("hello", NULL, &line, &len, &err);
	CHECK_INT(ret, 0);
	CHECK_STR(line, "{\"id\":1,\"cmd\":\"hello\"}\n");
	free(line);

	/* A name with a newline must not split the request line. */
	args = json_pack("{s:s}", "name", "a\nb");
	ret = ctl_request_format("add-drop", args, &line, &len, &err);
	CHECK_INT(ret, 0);
	CHECK_STR(line, "{\"id\":1,\"cmd\":\"add-drop\",\"args\":{\"name\":\"a\\nb\"}}\n");
	free(line);
	json_decref(args);

	big = malloc(CTL_MAX_REQUEST);
	memset(big, 'x', CTL_MAX_REQUEST - 1);
	big[CTL_MAX_REQUEST - 1] = '\0';
	args = json_pack("{s:s}", "name", big);
	ret = ctl_request_format("add-drop", args, &line, &len, &err);
	CHECK_INT(ret, -EMSGSIZE);
	CHECK(line == NULL);
	CHECK_CONTAINS(err.msg, "65536 byte line limit");
	json_decref(args);
	free(big);
}

int main(void)
{
	test_every_command();
	test_equals_form();
	test_usage_errors();
	test_rule_ids();
	test_help();
	test_globals();
	test_generic_table();
	test_table_and_help();
	test_request_line();
	return check_done("test_options");
}
