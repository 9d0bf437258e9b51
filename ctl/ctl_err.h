/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * An error for sluicectl: the negative errno travels through return values,
 * the sentence travels here until main() prints it as "sluicectl: <msg>".
 */
#ifndef SLUICECTL_ERR_H
#define SLUICECTL_ERR_H

#define CTL_ERR_MSG_MAX 512

struct ctl_err {
	char msg[CTL_ERR_MSG_MAX];
};

/*
 * Records the message and returns -code, so callers can
 * `return ctl_err_set(err, EINVAL, ...)`. Control characters become '?':
 * messages echo text from argv and from the daemon straight to a terminal.
 */
int ctl_err_set(struct ctl_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Replaces control characters in place, for text that ends up on a terminal. */
void ctl_sanitize(char *text);

#endif
