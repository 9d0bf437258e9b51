/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Assertions for the packet tests: each check is tallied, and a failure
 * names the case, the hook and the file:line that made it.
 */
#ifndef SLUICE_TEST_CHECK_H
#define SLUICE_TEST_CHECK_H

#include <stdbool.h>

/* Names the case that following checks belong to ("xdp", "proto-icmp"). */
void check_case(const char *hook, const char *name);

bool check_report(bool ok, const char *file, int line, const char *expr, const char *bug,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prints the final "N passed, M failed" line; returns the failure count. */
int check_summary(void);
void check_set_verbose(bool verbose);
/* Context worth knowing that is not a check (kernel refusals, tie-breaks); -v only. */
void check_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...) check_report(!!(cond), __FILE__, __LINE__, #cond, NULL, __VA_ARGS__)

/*
 * A check that fails because of a known datapath bug: it still fails and
 * counts, but the report says which bug so nobody weakens it by mistake.
 */
#define CHECK_BUG(bug, cond, ...) \
	check_report(!!(cond), __FILE__, __LINE__, #cond, (bug), __VA_ARGS__)

#endif
