/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* An error: a negative errno for code paths, a sentence for the person. */
#ifndef SLUICE_ERR_H
#define SLUICE_ERR_H

#define SL_ERR_MSG_MAX 256

struct sl_err {
	int code; /* positive errno, 0 when no error */
	char msg[SL_ERR_MSG_MAX];
};

/* Records the error and returns -code, so callers can `return sl_err_set(...)`. */
int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Cuts a trailing incomplete UTF-8 sequence left by truncation, so JSON can carry the text. */
void sl_utf8_trim(char *text);

/* The symbolic name of an errno ("EINVAL"), or "EIO" for unknown ones. */
const char *sl_errno_name(int code);

#endif
