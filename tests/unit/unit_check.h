/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Assertions for the unit tests. A failed check is reported and the test
 * goes on, so one run shows every broken case and not only the first; each
 * test binary is a single translation unit, hence the static state here.
 */
#ifndef SLUICE_UNIT_CHECK_H
#define SLUICE_UNIT_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned long ut_passed, ut_failed;

/* Oracle loops can fail thousands of times for one bug; the count stays exact. */
#define UT_MAX_PRINTED 200

static inline __attribute__((format(printf, 4, 5))) bool
ut_check(bool ok, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		ut_passed++;
		return true;
	}
	if (++ut_failed <= UT_MAX_PRINTED) {
		fprintf(stderr, "%s:%d: FAIL: ", file, line);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		if (ut_failed == UT_MAX_PRINTED)
			fprintf(stderr, "(further failures are counted, not printed)\n");
	}
	return false;
}

static inline bool ut_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return !strcmp(a, b);
}

/* Prints the summary line the test driver looks for; returns the exit status. */
static inline int ut_summary(void)
{
	printf("%lu passed, %lu failed\n", ut_passed, ut_failed);
	fflush(stdout);
	return ut_failed ? 1 : 0;
}

/* All of these evaluate to whether the check passed, so callers can stop early. */
#define CHECK(cond) ut_check(!!(cond), __FILE__, __LINE__, "%s", #cond)

/* Like CHECK, with a printf-style note for checks made in loops. */
#define CHECK_MSG(cond, fmt, ...) \
	ut_check(!!(cond), __FILE__, __LINE__, "%s [" fmt "]", #cond, ##__VA_ARGS__)

/*
 * Reports a failure but tallies nothing on success: for oracle sweeps, which
 * end with one counted check on their failure total.
 */
#define CHECK_QUIET(cond, fmt, ...)                                                     \
	({                                                                             \
		bool _ok = !!(cond);                                                   \
		if (!_ok)                                                              \
			ut_check(false, __FILE__, __LINE__, "%s [" fmt "]", #cond,     \
				 ##__VA_ARGS__);                                       \
		_ok;                                                                   \
	})

#define CHECK_INT(a, op, b)                                                            \
	({                                                                             \
		long long _a = (long long)(a), _b = (long long)(b);                    \
		ut_check(_a op _b, __FILE__, __LINE__, "%s %s %s (%lld vs %lld)", #a, #op, \
			 #b, _a, _b);                                                  \
	})

#define CHECK_UINT(a, op, b)                                                           \
	({                                                                             \
		unsigned long long _a = (unsigned long long)(a),                       \
				   _b = (unsigned long long)(b);                       \
		ut_check(_a op _b, __FILE__, __LINE__, "%s %s %s (%#llx vs %#llx)", #a, #op, \
			 #b, _a, _b);                                                  \
	})

#define CHECK_STR(a, b)                                                                \
	({                                                                             \
		const char *_a = (a), *_b = (b);                                       \
		ut_check(ut_str_eq(_a, _b), __FILE__, __LINE__, "%s == %s (\"%s\" vs \"%s\")", \
			 #a, #b, _a ? _a : "(null)", _b ? _b : "(null)");              \
	})

#endif
