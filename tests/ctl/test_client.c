// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reply parsing and the bounded socket exchange, against a socketpair peer. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "client.h"

static void expect_reply_at(int line, const char *text, int want_ret, const char *want)
{
	struct ctl_err err = { "" };
	json_t *result = NULL;
	int ret = ctl_reply_parse(text, strlen(text), &result, &err);

	CHECK_AT(line, ret == want_ret, "'%s': ret %d, want %d (%s)", text, ret, want_ret, err.msg);
	if (!ret) {
		json_t *w = json_loads(want, 0, NULL);

		CHECK_AT(line, json_equal(result, w), "'%s': wrong result", text);
		json_decref(w);
	} else {
		CHECK_AT(line, result == NULL, "result on failure");
		CHECK_AT(line, strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
	}
	json_decref(result);
}

#define expect_reply(text, ret, want) expect_reply_at(__LINE__, text, ret, want)

static void test_reply_parse(void)
{
	expect_reply("{\"id\": 1, \"ok\": true, \"result\": {\"id\": 12}}", 0, "{\"id\": 12}");
	expect_reply("{\"ok\": true}", 0, "{}");
	expect_reply("{\"id\": null, \"ok\": true, \"result\": {}}", 0, "{}");
	expect_reply("{\"id\": 1, \"ok\": false, \"error\": {\"code\": \"EINVAL\","
		     " \"message\": \"'10.0.0.1/33': prefix length must be 0-32\"}}",
		     -EINVAL, "EINVAL: '10.0.0.1/33': prefix length must be 0-32");
	expect_reply("{\"id\": null, \"ok\": false, \"error\": {\"code\": \"EPERM\","
		     " \"message\": \"uid 1000 may not use sluiced\"}}",
		     -EPERM, "EPERM: uid 1000 may not use sluiced");
	expect_reply("{\"ok\": false, \"error\": {\"code\": \"ENODEV\", \"message\": \"\"}}",
		     -ENODEV, "ENODEV: sluiced refused the request");
	expect_reply("{\"ok\": false, \"error\": {\"code\": \"EWHATEVER\", \"message\": \"m\"}}",
		     -EIO, "EWHATEVER: m");
	expect_reply("{\"ok\": false}", -EIO, "EIO: sluiced refused the request");
	/* Terminal escapes in a message are neutralized. */
	expect_reply("{\"ok\": false, \"error\": {\"code\": \"EINVAL\", \"message\": \"a\\u001b[2Jb\"}}",
		     -EINVAL, "EINVAL: a?[2Jb");

	expect_reply("not json", -EPROTO, "invalid reply from sluiced");
	expect_reply("[1]", -EPROTO, "not a JSON object");
	expect_reply("{\"id\": 1}", -EPROTO, "no \"ok\" member");
	expect_reply("{\"id\": 1, \"ok\": 1}", -EPROTO, "no \"ok\" member");
	expect_reply("{\"id\": 2, \"ok\": true, \"result\": {}}", -EPROTO, "wrong id");
	expect_reply("{\"id\": \"1\", \"ok\": true, \"result\": {}}", -EPROTO, "wrong id");
	expect_reply("{\"id\": 1, \"ok\": true, \"result\": [1]}", -EPROTO, "result is not an object");
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* sv[0] plays sluicectl's connected socket, sv[1] the daemon. */
static int pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) {
		perror("socketpair");
		exit(1);
	}
	return 0;
}

static void test_exchange(void)
{
	static const char req[] = "{\"id\":1,\"cmd\":\"hello\"}\n";
	struct ctl_err err = { "" };
	struct timespec t0;
	char *reply, buf[256], *big;
	size_t len;
	ssize_t n;
	int sv[2], ret;

	/* The reply may already be there, with more after it: only line one counts. */
	pair(sv);
	CHECK(write(sv[1], "{\"ok\":true}\n{\"junk\"", 20) == 20);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_STR(reply, "{\"ok\":true}");
		CHECK_INT(len, 11);
		free(reply);
	}
	n = read(sv[1], buf, sizeof(buf) - 1);
	CHECK_INT(n, (long long)strlen(req));
	buf[n > 0 ? n : 0] = '\0';
	CHECK_STR(buf, req);
	close(sv[0]);
	close(sv[1]);

	/* No reply: bounded by the timeout. */
	pair(sv);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = ctl_exchange(sv[0], req, strlen(req), 200, 4096, &reply, &len, &err);
	CHECK_INT(ret, -ETIMEDOUT);
	CHECK_CONTAINS(err.msg, "timed out waiting for a reply");
	CHECK_AT(__LINE__, elapsed_ms(&t0) >= 190 && elapsed_ms(&t0) < 2000, "%ld ms",
		 elapsed_ms(&t0));
	close(sv[0]);
	close(sv[1]);

	/* A reply without end is cut off at the limit, newline included. */
	pair(sv);
	big = malloc(10000);
	memset(big, 'x', 10000);
	CHECK(write(sv[1], big, 10000) == 10000);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK_INT(ret, -EMSGSIZE);
	CHECK_CONTAINS(err.msg, "exceeds 4096 bytes");
	close(sv[0]);
	close(sv[1]);

	/* Exactly at the limit is fine. */
	pair(sv);
	big[4095] = '\n';
	CHECK(write(sv[1], big, 4096) == 4096);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_INT(len, 4095);
		free(reply);
	}
	close(sv[0]);
	close(sv[1]);
	free(big);

	/* Hung up without a word. */
	pair(sv);
	close(sv[1]);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK(ret == -ECONNRESET || ret == -EPIPE);
	close(sv[0]);

	/* Hung up mid-line. */
	pair(sv);
	CHECK(write(sv[1], "{\"ok\":", 6) == 6);
	close(sv[1]);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK(ret == -EPROTO || ret == -EPIPE);
	close(sv[0]);

	/*
	 * The daemon's EPERM: a reply, then hang-up before reading anything.
	 * Sending fails with EPIPE, but the reason is still readable.
	 */
	pair(sv);
	CHECK(write(sv[1], "{\"id\":null,\"ok\":false}\n", 23) == 23);
	close(sv[1]);
	ret = ctl_exchange(sv[0], req, strlen(req), 2000, 4096, &reply, &len, &err);
	CHECK_INT(ret, 0);
	if (!ret) {
		CHECK_STR(reply, "{\"id\":null,\"ok\":false}");
		free(reply);
	}
	close(sv[0]);
}

static void test_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/sluicectl-test.XXXXXX", path[200], longpath[300];
	struct ctl_err err = { "" };
	int fd, l, ret;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/sluiced.sock", dir);

	ret = ctl_connect(path, 1000, &fd, &err);
	CHECK_INT(ret, -ENOENT);
	CHECK_INT(fd, -1);
	snprintf(longpath, sizeof(longpath),
		 "cannot connect to %s: No such file or directory (is sluiced running?)", path);
	CHECK_STR(err.msg, longpath);

	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	ret = ctl_connect(longpath, 1000, &fd, &err);
	CHECK_INT(ret, -ENAMETOOLONG);

	/* A socket file nobody listens on: the daemon died without cleaning up. */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	strcpy(sun.sun_path, path);
	CHECK_INT(bind(l, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ret = ctl_connect(path, 1000, &fd, &err);
	CHECK_INT(ret, -ECONNREFUSED);
	CHECK_CONTAINS(err.msg, "(is sluiced running?)");

	CHECK_INT(listen(l, 1), 0);
	ret = ctl_connect(path, 1000, &fd, &err);
	CHECK_INT(ret, 0);
	if (!ret)
		close(fd);
	close(l);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_reply_parse();
	test_exchange();
	test_connect();
	return check_done("test_client");
}
