// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "sl_log.h"

static enum sl_log_level current_level = SL_LOG_INFO;
static bool libs_quiet;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void sl_log_set_level(enum sl_log_level level)
{
	current_level = level;
}

int sl_log_parse_level(const char *name, enum sl_log_level *level)
{
	for (unsigned i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcmp(name, level_names[i])) {
			*level = (enum sl_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void vlog(enum sl_log_level level, const char *fmt, va_list ap)
{
	struct timespec ts;
	struct tm tm;
	char stamp[32];

	if (level > current_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s: ", stamp, ts.tv_nsec / 1000000, level_names[level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void sl_log(enum sl_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* Library lines end in '\n'; ours add one, so print through a trimmed copy. */
static void vlog_trimmed(enum sl_log_level level, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	if (libs_quiet)
		level = SL_LOG_DEBUG;
	if (level > current_level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	/* libbpf warns about libxdp's run-config section on every load; it is expected. */
	if (strstr(line, ".xdp_run_config"))
		return;
	/*
	 * Kernel answers that sluice expects and handles: bpf_tc_query() on an
	 * empty hook, and bpf_tc_hook_create() on a clsact qdisc that exists.
	 */
	if (strstr(line, "Cannot find specified filter chain") ||
	    strstr(line, "Filter with specified priority/protocol not found") ||
	    strstr(line, "Exclusivity flag on, cannot modify"))
		level = SL_LOG_DEBUG;
	sl_log(level, "%s", line);
}

void sl_log_quiet_libs(bool quiet)
{
	libs_quiet = quiet;
}

static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	vlog_trimmed(lvl == LIBBPF_WARN ? SL_LOG_WARN : SL_LOG_DEBUG, fmt, ap);
	return 0;
}

static int libxdp_print(enum libxdp_print_level lvl, const char *fmt, va_list ap)
{
	vlog_trimmed(lvl == LIBXDP_WARN ? SL_LOG_WARN : SL_LOG_DEBUG, fmt, ap);
	return 0;
}

void sl_log_hook_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
