// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl_err.h"

int sl_err_set(struct sl_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (code < 0)
		code = -code;
	if (err) {
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		sl_utf8_trim(err->msg);
	}
	return -code;
}

void sl_utf8_trim(char *text)
{
	size_t len = strlen(text), start = len, need;
	unsigned char lead;

	/* Walk back over continuation bytes to the sequence's lead byte. */
	while (start > 0 && len - start < 4 && ((unsigned char)text[start - 1] & 0xc0) == 0x80)
		start--;
	if (start == 0)
		return;
	lead = (unsigned char)text[start - 1];
	if (lead < 0xc0)
		return; /* ASCII (or stray continuation bytes: not ours to judge) */
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
	if (len - (start - 1) < need)
		text[start - 1] = '\0';
}

const char *sl_errno_name(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case EINVAL: return "EINVAL";
	case ENOENT: return "ENOENT";
	case EEXIST: return "EEXIST";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENOSPC: return "ENOSPC";
	case EBUSY: return "EBUSY";
	case ENOMEM: return "ENOMEM";
	case ENODEV: return "ENODEV";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case EMSGSIZE: return "EMSGSIZE";
	case EPROTO: return "EPROTO";
	case ENOSYS: return "ENOSYS";
	default: return "EIO";
	}
}
