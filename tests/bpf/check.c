// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>

#include "check.h"

static const char *cur_hook = "-", *cur_case = "-";
static unsigned int passed, failed;
static bool verbose;

void check_case(const char *hook, const char *name)
{
	cur_hook = hook;
	cur_case = name;
}

void check_set_verbose(bool v)
{
	verbose = v;
}

bool check_report(bool ok, const char *file, int line, const char *expr, const char *bug,
		  const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		passed++;
		if (!verbose)
			return true;
	} else {
		failed++;
	}
	printf("%s [%s] %s: %s:%d: ", ok ? "ok  " : "FAIL", cur_hook, cur_case, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok)
		printf(" (check: %s)", expr);
	if (!ok && bug)
		printf(" [KNOWN DATAPATH BUG: %s]", bug);
	printf("\n");
	return ok;
}

void check_note(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	printf("note [%s] %s: ", cur_hook, cur_case);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

int check_summary(void)
{
	printf("%u passed, %u failed\n", passed, failed);
	return (int)failed;
}
