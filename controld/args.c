// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "args.h"

int args_check_known(json_t *args, const char *const *known, const char *cmd,
		     struct sl_err *err)
{
	const char *key;
	json_t *val;

	json_object_foreach(args, key, val) {
		const char *const *k;

		(void)val;
		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (!*k)
			return sl_err_set(err, EINVAL, "unknown argument '%s' for %s", key, cmd);
	}
	return 0;
}

int args_string(json_t *args, const char *name, bool required, const char **out,
		struct sl_err *err)
{
	json_t *v = json_object_get(args, name);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return sl_err_set(err, EINVAL, "missing argument '%s'", name);
		return 0;
	}
	if (!json_is_string(v))
		return sl_err_set(err, EINVAL, "argument '%s' must be a string", name);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return sl_err_set(err, EINVAL, "argument '%s' contains a NUL byte", name);
	*out = json_string_value(v);
	return 0;
}

int args_text(json_t *args, const char *name, char *buf, size_t len, bool *present,
	      struct sl_err *err)
{
	json_t *v = json_object_get(args, name);
	const char *s;

	*present = false;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0)
			return sl_err_set(err, EINVAL, "argument '%s' must not be negative", name);
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*present = true;
		return 0;
	}
	if (args_string(args, name, false, &s, err))
		return -EINVAL;
	if (strlen(s) >= len)
		return sl_err_set(err, EINVAL, "argument '%s' is too long", name);
	snprintf(buf, len, "%s", s);
	*present = true;
	return 0;
}

int args_uint(json_t *args, const char *name, bool required, uint64_t max, uint64_t *out,
	      bool *present, struct sl_err *err)
{
	json_t *v = json_object_get(args, name);

	if (present)
		*present = false;
	if (!v || json_is_null(v)) {
		if (required)
			return sl_err_set(err, EINVAL, "missing argument '%s'", name);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return sl_err_set(err, EINVAL, "argument '%s' must be an integer from 0 to %" PRIu64,
				  name, max);
	*out = (uint64_t)json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}
