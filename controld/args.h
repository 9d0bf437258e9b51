/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Typed access to a request's "args" object, with errors a person can act on. */
#ifndef SLUICE_ARGS_H
#define SLUICE_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sl_err.h"

/* Refuses members not in the NULL-terminated list `known`. */
int args_check_known(json_t *args, const char *const *known, const char *cmd,
		     struct sl_err *err);

/* *out is NULL when absent or null; a required one must be present. */
int args_string(json_t *args, const char *name, bool required, const char **out,
		struct sl_err *err);

/* Accepts a string or a non-negative integer, giving its text in buf. */
int args_text(json_t *args, const char *name, char *buf, size_t len, bool *present,
	      struct sl_err *err);

/* A non-negative integer no larger than max. */
int args_uint(json_t *args, const char *name, bool required, uint64_t max, uint64_t *out,
	      bool *present, struct sl_err *err);

#endif
