// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include "client.h"

#define FIRST_READ 4096

static const struct {
	const char *name;
	int code;
} errno_names[] = {
	{ "EPROTO", EPROTO }, { "EMSGSIZE", EMSGSIZE }, { "ENOSYS", ENOSYS },
	{ "EINVAL", EINVAL }, { "ENOENT", ENOENT }, { "ENODEV", ENODEV },
	{ "EEXIST", EEXIST }, { "EBUSY", EBUSY }, { "ENOSPC", ENOSPC },
	{ "EPERM", EPERM }, { "EACCES", EACCES }, { "ENOMEM", ENOMEM },
	{ "ETIMEDOUT", ETIMEDOUT }, { "EAGAIN", EAGAIN }, { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ERANGE", ERANGE }, { "E2BIG", E2BIG }, { "EIO", EIO },
};

/* Codes this client does not know still mean "refused": EIO keeps exit status 1. */
static int errno_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (!strcmp(errno_names[i].name, name))
			return errno_names[i].code;
	return EIO;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctl_request_format(const char *cmd, json_t *args, char **line, size_t *len,
		       struct ctl_err *err)
{
	json_t *req;
	char *text;
	size_t n;

	*line = NULL;
	req = args ? json_pack("{s:I, s:s, s:O}", "id", (json_int_t)CTL_REQUEST_ID,
			       "cmd", cmd, "args", args)
		   : json_pack("{s:I, s:s}", "id", (json_int_t)CTL_REQUEST_ID, "cmd", cmd);
	if (!req)
		return ctl_err_set(err, ENOMEM, "cannot build the request");
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return ctl_err_set(err, ENOMEM, "out of memory");

	n = strlen(text);
	if (n + 1 > CTL_MAX_REQUEST) {
		free(text);
		return ctl_err_set(err, EMSGSIZE,
				   "request of %zu bytes exceeds the protocol's %d byte line limit",
				   n + 1, CTL_MAX_REQUEST);
	}
	{
		char *grown = realloc(text, n + 2);

		if (!grown) {
			free(text);
			return ctl_err_set(err, ENOMEM, "out of memory");
		}
		*line = grown;
	}
	(*line)[n] = '\n';
	(*line)[n + 1] = '\0';
	*len = n + 1;
	return 0;
}

static const char *connect_hint(int code)
{
	switch (code) {
	case ENOENT:
	case ECONNREFUSED:
		return " (is sluiced running?)";
	case EACCES:
	case EPERM:
		return " (sluiced accepts root and members of group sluice)";
	default:
		return "";
	}
}

int ctl_connect(const char *path, int timeout_ms, int *fd, struct ctl_err *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	int s, code;

	*fd = -1;
	if (strlen(path) >= sizeof(sun.sun_path))
		return ctl_err_set(err, ENAMETOOLONG, "cannot connect to %s: %s", path,
				   strerror(ENAMETOOLONG));
	strcpy(sun.sun_path, path);

	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return ctl_err_set(err, errno, "cannot create a socket: %s", strerror(errno));
	/*
	 * A blocking connect() to a UNIX socket waits while the daemon's accept
	 * backlog is full; SO_SNDTIMEO bounds that wait.
	 */
	if (setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))
		goto fail;
	while (connect(s, (struct sockaddr *)&sun, sizeof(sun))) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			errno = ETIMEDOUT;
		goto fail;
	}
	if (fcntl(s, F_SETFL, O_NONBLOCK))
		goto fail;
	*fd = s;
	return 0;

fail:
	code = errno;
	close(s);
	return ctl_err_set(err, code, "cannot connect to %s: %s%s", path, strerror(code),
			   connect_hint(code));
}

/* Returns 0 when fd is ready (or has an error for the next call to report). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len) {
		/* MSG_NOSIGNAL: a daemon that hangs up must not kill us with SIGPIPE. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int ret;

		if (n >= 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

static int recv_line(int fd, size_t max, int64_t deadline, char **line, size_t *line_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int ret;

	for (;;) {
		ssize_t n;
		char *nl;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : FIRST_READ;
			char *grown;

			if (cap >= max) {
				ret = -EMSGSIZE;
				goto fail;
			}
			if (ncap > max)
				ncap = max;
			grown = realloc(buf, ncap);
			if (!grown) {
				ret = -ENOMEM;
				goto fail;
			}
			buf = grown;
			cap = ncap;
		}
		n = recv(fd, buf + len, cap - len, 0);
		if (n > 0) {
			nl = memchr(buf + len, '\n', (size_t)n);
			len += (size_t)n;
			if (nl) {
				*nl = '\0';
				*line = buf;
				*line_len = (size_t)(nl - buf);
				return 0;
			}
			continue;
		}
		if (n == 0) {
			ret = len ? -EPROTO : -ECONNRESET;
			goto fail;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			ret = -errno;
			goto fail;
		}
		ret = wait_fd(fd, POLLIN, deadline);
		if (ret)
			goto fail;
	}

fail:
	free(buf);
	return ret;
}

int ctl_exchange(int fd, const char *req, size_t req_len, int timeout_ms, size_t max,
		 char **reply, size_t *reply_len, struct ctl_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	int sret, ret;

	*reply = NULL;
	/*
	 * Even if sending fails, the daemon may have said why before hanging
	 * up (EPERM for a peer it does not accept): read that first.
	 */
	sret = send_all(fd, req, req_len, deadline);
	if (sret == -ETIMEDOUT)
		return ctl_err_set(err, ETIMEDOUT, "timed out sending the request to sluiced");
	ret = recv_line(fd, max, deadline, reply, reply_len);
	if (!ret)
		return 0;
	if (sret && ret != -ETIMEDOUT)
		return ctl_err_set(err, -sret, "cannot send the request to sluiced: %s",
				   strerror(-sret));

	switch (ret) {
	case -ETIMEDOUT:
		return ctl_err_set(err, ETIMEDOUT, "timed out waiting for a reply from sluiced");
	case -EMSGSIZE:
		return ctl_err_set(err, EMSGSIZE, "reply from sluiced exceeds %zu bytes", max);
	case -ECONNRESET:
		return ctl_err_set(err, ECONNRESET, "sluiced closed the connection without replying");
	case -EPROTO:
		return ctl_err_set(err, EPROTO, "sluiced closed the connection in the middle of a reply");
	default:
		return ctl_err_set(err, -ret, "cannot read the reply from sluiced: %s",
				   strerror(-ret));
	}
}

int ctl_reply_parse(const char *line, size_t len, json_t **result, struct ctl_err *err)
{
	const char *code, *message;
	json_t *reply, *id, *ok, *res, *e;
	json_error_t jerr;
	int ret;

	*result = NULL;
	reply = json_loadb(line, len, 0, &jerr);
	if (!reply)
		return ctl_err_set(err, EPROTO, "invalid reply from sluiced: %s", jerr.text);
	if (!json_is_object(reply)) {
		ret = ctl_err_set(err, EPROTO, "invalid reply from sluiced: not a JSON object");
		goto out;
	}
	/* null is fine: an EPERM reply is sent before the request is read. */
	id = json_object_get(reply, "id");
	if (id && !json_is_null(id) &&
	    !(json_is_integer(id) && json_integer_value(id) == CTL_REQUEST_ID)) {
		ret = ctl_err_set(err, EPROTO, "invalid reply from sluiced: wrong id");
		goto out;
	}

	ok = json_object_get(reply, "ok");
	if (json_is_true(ok)) {
		res = json_object_get(reply, "result");
		if (res && !json_is_object(res)) {
			ret = ctl_err_set(err, EPROTO,
					  "invalid reply from sluiced: result is not an object");
			goto out;
		}
		*result = res ? json_incref(res) : json_object();
		ret = *result ? 0 : ctl_err_set(err, ENOMEM, "out of memory");
	} else if (json_is_false(ok)) {
		e = json_object_get(reply, "error");
		code = json_string_value(json_object_get(e, "code"));
		message = json_string_value(json_object_get(e, "message"));
		if (!code)
			code = "EIO";
		if (message && message[0])
			ret = ctl_err_set(err, errno_from_name(code), "%s: %s", code, message);
		else
			ret = ctl_err_set(err, errno_from_name(code), "%s: %s", code,
					  "sluiced refused the request");
	} else {
		ret = ctl_err_set(err, EPROTO, "invalid reply from sluiced: no \"ok\" member");
	}
out:
	json_decref(reply);
	return ret;
}

int ctl_exchange_parse(int fd, const char *req, size_t req_len, int timeout_ms,
		       json_t **result, struct ctl_err *err)
{
	size_t reply_len;
	char *reply;
	int ret;

	*result = NULL;
	ret = ctl_exchange(fd, req, req_len, timeout_ms, CTL_MAX_REPLY, &reply, &reply_len, err);
	if (ret)
		return ret;
	ret = ctl_reply_parse(reply, reply_len, result, err);
	free(reply);
	return ret;
}

int ctl_call(const char *path, const char *req, size_t req_len, int timeout_ms,
	     json_t **result, struct ctl_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	int64_t left;
	int fd, ret;

	*result = NULL;
	ret = ctl_connect(path, timeout_ms, &fd, err);
	if (ret)
		return ret;
	left = deadline - now_ms();
	ret = ctl_exchange_parse(fd, req, req_len, left > 0 ? (int)left : 0, result, err);
	close(fd);
	return ret;
}
