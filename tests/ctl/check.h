/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Assertions for the ctl unit tests. Not assert(): the default build type
 * defines NDEBUG, which would turn every check into nothing.
 */
#ifndef SLUICECTL_TEST_CHECK_H
#define SLUICECTL_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK_AT(line, cond, ...)                                                  \
	do {                                                                        \
		check_count++;                                                      \
		if (!(cond)) {                                                      \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, line, #cond); \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			check_failures++;                                           \
		}                                                                   \
	} while (0)

#define CHECK(cond) CHECK_AT(__LINE__, cond, "%s", "")
#define CHECK_INT(got, want)                                                       \
	do {                                                                        \
		long long g_ = (got), w_ = (want);                                  \
		CHECK_AT(__LINE__, g_ == w_, "got %lld, want %lld", g_, w_);        \
	} while (0)
#define CHECK_STR(got, want)                                                       \
	do {                                                                        \
		const char *g_ = (got), *w_ = (want);                               \
		CHECK_AT(__LINE__, g_ && !strcmp(g_, w_), "got\n%s\nwant\n%s", g_ ? g_ : "(null)", w_); \
	} while (0)
#define CHECK_CONTAINS(got, part)                                                  \
	do {                                                                        \
		const char *g_ = (got), *p_ = (part);                               \
		CHECK_AT(__LINE__, g_ && strstr(g_, p_), "'%s' does not contain '%s'", g_ ? g_ : "(null)", p_); \
	} while (0)

/* Returns main()'s exit status; a test that checked nothing has failed too. */
static inline int check_done(const char *name)
{
	if (!check_count) {
		fprintf(stderr, "%s: no checks ran\n", name);
		return 1;
	}
	fprintf(stderr, "%s: %d checks, %d failed\n", name, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
