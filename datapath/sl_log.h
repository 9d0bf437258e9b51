/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Logging to stderr with a level; shared by the library and the daemon. */
#ifndef SLUICE_LOG_H
#define SLUICE_LOG_H

#include <stdbool.h>

enum sl_log_level { SL_LOG_ERROR, SL_LOG_WARN, SL_LOG_INFO, SL_LOG_DEBUG };

void sl_log_set_level(enum sl_log_level level);
/* Parses "error", "warn", "info" or "debug"; returns 0 or -EINVAL. */
int sl_log_parse_level(const char *name, enum sl_log_level *level);
void sl_log(enum sl_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * While quieted, library warnings are logged at debug level: for probes whose
 * failure is expected and reported by us in one line instead.
 */
void sl_log_quiet_libs(bool quiet);
/* Routes libbpf's and libxdp's messages through sl_log. */
void sl_log_hook_libs(void);

#endif
