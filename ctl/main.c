// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sluicectl: the command-line client of sluiced. Parses the command line
 * against the command table, sends one request, prints the reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands.h"

#ifndef SLUICE_VERSION
#error "SLUICE_VERSION must come from the build (PROJECT_VERSION)"
#endif

/* Scripts branch on these; they are part of the interface. */
enum {
	EXIT_DONE = 0,
	EXIT_REFUSED = 1, /* the daemon said no, or could not be reached */
	EXIT_USAGE = 2,
};

/* hint: NULL, or a line that says how to fix msg. */
static int usage_error(const struct ctl_cmd *cmd, const char *msg, const char *hint)
{
	fprintf(stderr, "sluicectl: %s\n", msg);
	if (hint)
		fprintf(stderr, "%s\n", hint);
	if (cmd) {
		ctl_cmd_print_usage(stderr, cmd);
		fprintf(stderr, "Try 'sluicectl %s --help' for more information.\n", cmd->name);
	} else {
		ctl_print_usage(stderr);
		fputs("Try 'sluicectl --help' for more information.\n", stderr);
	}
	return EXIT_USAGE;
}

/* "sluicectl list --json" is a natural thing to type; say where it belongs. */
static const char *global_option_hint(const struct ctl_cmd *cmd, int argc, char **argv,
				      char *buf, size_t len)
{
	const struct ctl_opt *o;
	int i;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		o = ctl_opts_lookup(ctl_global_opts, argv[i]);
		if (o && !ctl_opts_lookup(cmd->opts, argv[i])) {
			snprintf(buf, len, "(--%s is a global option: write it before the command)",
				 o->name);
			return buf;
		}
	}
	return NULL;
}

static int run_help(int argc, char **argv)
{
	const struct ctl_cmd *cmd;
	struct ctl_err err;

	if (argc > 1)
		return usage_error(NULL, "help takes at most one command", NULL);
	/* `help --help` and `help -h`, like any command's --help. */
	if (argc == 0 || !strcmp(argv[0], "help") || !strcmp(argv[0], "--help") ||
	    !strcmp(argv[0], "-h")) {
		ctl_print_help(stdout);
		return EXIT_DONE;
	}
	cmd = ctl_cmd_find(argv[0]);
	if (!cmd) {
		ctl_err_set(&err, EINVAL, "unknown command '%s'", argv[0]);
		return usage_error(NULL, err.msg, NULL);
	}
	ctl_cmd_print_help(stdout, cmd);
	return EXIT_DONE;
}

/* --socket, else $SLUICE_SOCKET (an empty one counts as unset), else the default. */
static const char *socket_path(const json_t *globals)
{
	const char *path = json_string_value(json_object_get(globals, "socket"));

	if (path)
		return path;
	path = getenv(CTL_SOCKET_ENV);
	return path && path[0] ? path : CTL_DEFAULT_SOCKET;
}

static int call_and_print(const struct ctl_cmd *cmd, const json_t *globals, json_t *args)
{
	const char *wire_name = cmd->name;
	const json_t *timeout = json_object_get(globals, "timeout");
	json_int_t timeout_s = timeout ? json_integer_value(timeout) : CTL_DEFAULT_TIMEOUT_S;
	json_t *result = NULL;
	struct ctl_err err;
	size_t req_len;
	char *req;
	int ret;

	if (timeout_s > CTL_MAX_TIMEOUT_S) {
		ctl_err_set(&err, EINVAL, "--timeout must be at most %d seconds", CTL_MAX_TIMEOUT_S);
		return usage_error(NULL, err.msg, NULL);
	}
	if (cmd->wire && cmd->wire(args, &wire_name, &err))
		return usage_error(cmd, err.msg, NULL);
	if (cmd->send) {
		ret = cmd->send(socket_path(globals), args, (int)timeout_s * 1000, &result, &err);
		if (ret) {
			fprintf(stderr, "sluicectl: %s\n", err.msg);
			return EXIT_REFUSED;
		}
		goto print;
	}
	ret = ctl_request_format(wire_name, args, &req, &req_len, &err);
	if (ret == -EMSGSIZE)
		return usage_error(cmd, err.msg, NULL);
	if (ret) {
		fprintf(stderr, "sluicectl: %s\n", err.msg);
		return EXIT_REFUSED;
	}
	ret = ctl_call(socket_path(globals), req, req_len, (int)timeout_s * 1000, &result, &err);
	free(req);
	if (ret) {
		fprintf(stderr, "sluicectl: %s\n", err.msg);
		return EXIT_REFUSED;
	}

print:
	if (json_is_true(json_object_get(globals, "json")))
		ret = ctl_render_json(stdout, result);
	else
		ret = cmd->render(stdout, args, result);
	json_decref(result);
	if (ret == -ENOMEM) {
		fputs("sluicectl: out of memory\n", stderr);
		return EXIT_REFUSED;
	}
	if (ret) {
		/* The command did happen; only its description is odd. */
		fprintf(stderr, "sluicectl: unexpected result from sluiced for '%s' (try --json)\n",
			cmd->name);
		return EXIT_REFUSED;
	}
	return EXIT_DONE;
}

static int run(int argc, char **argv)
{
	struct ctl_parsed globals, parsed = { 0 };
	const struct ctl_cmd *cmd;
	struct ctl_err err;
	int first, status;
	char hint[96];

	if (ctl_opts_parse(ctl_global_opts, argc - 1, argv + 1, CTL_PARSE_STOP_AT_WORD,
			   &globals, &err))
		return usage_error(NULL, err.msg, NULL);

	if (globals.help) {
		ctl_print_help(stdout);
		status = EXIT_DONE;
		goto out;
	}
	if (json_is_true(json_object_get(globals.args, "version"))) {
		printf("sluicectl %s\n", SLUICE_VERSION);
		status = EXIT_DONE;
		goto out;
	}
	first = 1 + globals.next;
	if (first >= argc) {
		status = usage_error(NULL, "no command given", NULL);
		goto out;
	}
	if (!strcmp(argv[first], "help")) {
		status = run_help(argc - first - 1, argv + first + 1);
		goto out;
	}
	cmd = ctl_cmd_find(argv[first]);
	if (!cmd) {
		ctl_err_set(&err, EINVAL, "unknown command '%s'", argv[first]);
		status = usage_error(NULL, err.msg, NULL);
		goto out;
	}
	if (ctl_opts_parse(cmd->opts, argc - first - 1, argv + first + 1, 0, &parsed, &err)) {
		status = usage_error(cmd, err.msg,
				     global_option_hint(cmd, argc - first - 1, argv + first + 1,
							hint, sizeof(hint)));
		goto out;
	}
	if (parsed.help) {
		ctl_cmd_print_help(stdout, cmd);
		status = EXIT_DONE;
		goto out;
	}
	status = call_and_print(cmd, globals.args, parsed.args);
out:
	json_decref(parsed.args);
	json_decref(globals.args);
	return status;
}

int main(int argc, char **argv)
{
	int status = run(argc, argv);

	/* "sluicectl list > /dev/full" must not report success. */
	errno = 0;
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "sluicectl: cannot write output: %s\n",
			strerror(errno ? errno : EIO));
		return status ? status : EXIT_REFUSED;
	}
	return status;
}
