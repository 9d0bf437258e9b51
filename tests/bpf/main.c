// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sluice-bpf-tests: every case runs on a fresh, detached instance of the
 * XDP program and then of the TC program, through BPF_PROG_TEST_RUN.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "cases.h"

static const struct case_def *const tables[] = {
	cases_match, cases_encap, cases_truncated, cases_rules, cases_redirect, cases_nat,
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-bpf-tests [-v] [-l] [-H xdp|tc] [CASE-SUBSTRING...]\n"
		"  -v  print passing checks too\n"
		"  -l  list cases and exit\n"
		"  -H  run on one hook kind only (default: both)\n");
}

static bool selected(const char *name, int argc, char **argv)
{
	if (argc == 0)
		return true;
	for (int i = 0; i < argc; i++)
		if (strstr(name, argv[i]))
			return true;
	return false;
}

/* libbpf's verifier dumps drown the report; keep its warnings only. */
static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static void run_case(enum sl_hook_kind kind, const struct case_def *c)
{
	struct sl_err err = { 0 };
	struct tcase t;
	int rc;

	check_case(sl_hook_name(kind), c->name);
	rc = harness_open(&t, kind, &err);
	if (!CHECK(rc == 0, "load the program: %s", err.msg))
		return;
	c->run(&t);
	harness_close(&t);
}

int main(int argc, char **argv)
{
	enum sl_hook_kind kinds[] = { SL_HOOK_XDP, SL_HOOK_TC_INGRESS };
	size_t nkinds = 2;
	bool list = false;
	int opt;

	while ((opt = getopt(argc, argv, "vlH:h")) != -1) {
		switch (opt) {
		case 'v':
			check_set_verbose(true);
			break;
		case 'l':
			list = true;
			break;
		case 'H':
			if (!strcmp(optarg, "xdp")) {
				kinds[0] = SL_HOOK_XDP;
			} else if (!strcmp(optarg, "tc")) {
				kinds[0] = SL_HOOK_TC_INGRESS;
			} else {
				usage(stderr);
				return 2;
			}
			nkinds = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	libbpf_set_print(quiet_libbpf);

	for (size_t k = 0; k < nkinds; k++) {
		for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
			for (const struct case_def *c = tables[i]; c->name; c++) {
				if (!selected(c->name, argc, argv))
					continue;
				if (list) {
					if (k == 0)
						printf("%s\n", c->name);
					continue;
				}
				run_case(kinds[k], c);
			}
		}
	}
	if (list)
		return 0;
	return check_summary() ? 1 : 0;
}
