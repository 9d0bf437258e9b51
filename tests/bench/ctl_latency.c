// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ctl_latency: round trips of sluiced's control socket. Sends COUNT pairs of
 * add-drop (UDP, a new destination port each) and del of the new rule, one
 * request at a time (send a line, wait for its reply line), and reports the
 * add round trips (and the del ones) in microseconds: p50, p90, p99, max.
 *
 * One rule (UDP port 65535) stays on the hook for the whole run, so that the
 * adds and dels time the rule path, not attaching and detaching the program.
 * Links only libc; the replies are read with a few string searches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ANCHOR_PORT 65535

static int sock = -1;
static char rbuf[1 << 16];
static size_t rlen;
static long req_id;

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("ctl_latency: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Appends s to out as a JSON string. */
static void json_str(char *out, size_t cap, const char *s)
{
	size_t n = strlen(out);

	if (n + 1 < cap)
		out[n++] = '"';
	for (; *s && n + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(out + n, cap - n, "\\%c", ch);
		else if (ch < 0x20)
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", ch);
		else
			out[n++] = (char)ch;
	}
	if (n + 1 < cap)
		out[n++] = '"';
	out[n] = '\0';
}

/* Sends one request line and reads its reply line into reply (NUL-terminated). */
static void call(const char *req, char *reply, size_t cap)
{
	size_t len = strlen(req), off = 0;
	char *nl;

	while (off < len) {
		ssize_t n = send(sock, req + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send: %s", strerror(errno));
		}
		off += (size_t)n;
	}
	while (!(nl = memchr(rbuf, '\n', rlen))) {
		ssize_t n;

		if (rlen == sizeof(rbuf))
			die("reply line too long");
		n = recv(sock, rbuf + rlen, sizeof(rbuf) - rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("recv: %s", n ? strerror(errno) : "sluiced closed the connection");
		rlen += (size_t)n;
	}
	len = (size_t)(nl - rbuf);
	if (len >= cap)
		die("reply line too long");
	memcpy(reply, rbuf, len);
	reply[len] = '\0';
	memmove(rbuf, nl + 1, rlen - len - 1);
	rlen -= len + 1;
}

/* True when the reply says "ok": true. */
static int reply_ok(const char *reply)
{
	const char *p = strstr(reply, "\"ok\"");

	if (!p)
		return 0;
	p += 4;
	p += strspn(p, " \t:");
	return strncmp(p, "true", 4) == 0;
}

/* The rule id of an add's reply: result.id; -1 if none. */
static long result_id(const char *reply)
{
	const char *p = strstr(reply, "\"result\"");

	if (!reply_ok(reply) || !p || !(p = strstr(p, "\"id\"")))
		return -1;
	p += 4;
	p += strspn(p, " \t:");
	return strtol(p, NULL, 10);
}

static long add_drop(const char *args_prefix, int port, char *reply, size_t cap)
{
	char req[2560];
	long id;

	snprintf(req, sizeof(req),
		 "{\"id\":%ld,\"cmd\":\"add-drop\",\"args\":{%s,\"proto\":\"udp\",\"dport\":%d}}\n",
		 ++req_id, args_prefix, port);
	call(req, reply, cap);
	id = result_id(reply);
	if (id < 0)
		die("add-drop refused: %s", reply);
	return id;
}

static void del(long id, char *reply, size_t cap)
{
	char req[128];

	snprintf(req, sizeof(req), "{\"id\":%ld,\"cmd\":\"del\",\"args\":{\"id\":%ld}}\n", ++req_id, id);
	call(req, reply, cap);
	if (!reply_ok(reply))
		die("del refused: %s", reply);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[n]. */
static double pct(const double *v, long n, double p)
{
	long k = (long)(p / 100.0 * (double)n + 0.999999);

	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

struct summary {
	double p50, p90, p99, max, mean;
};

static struct summary summarize(double *v, long n)
{
	struct summary s = { 0 };

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	for (long i = 0; i < n; i++)
		s.mean += v[i] / (double)n;
	s.p50 = pct(v, n, 50);
	s.p90 = pct(v, n, 90);
	s.p99 = pct(v, n, 99);
	s.max = v[n - 1];
	return s;
}

static void usage(FILE *f)
{
	fputs("Usage: ctl_latency --socket PATH --iface IF [--netns NS] [--count N]\n"
	      "                   [--hook xdp|tc-ingress|tc-egress] [--json]\n"
	      "Times COUNT (default 2000) add-drop requests to sluiced, each followed by the\n"
	      "del of its rule, one request at a time; prints the add (and del) round trips\n"
	      "in microseconds: p50, p90, p99, max.\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "iface", required_argument, NULL, 'i' },
		{ "netns", required_argument, NULL, 'n' },  { "count", required_argument, NULL, 'c' },
		{ "hook", required_argument, NULL, 'k' },   { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *iface = NULL, *netns = NULL, *hook = "xdp";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char args[2048] = "", hook_json[80] = "", reply[8192], *end;
	struct summary a, d;
	double *add_us, *del_us;
	long count = 2000, anchor;
	int json = 0, opt;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': path = optarg; break;
		case 'i': iface = optarg; break;
		case 'n': netns = optarg; break;
		case 'k': hook = optarg; break;
		case 'j': json = 1; break;
		case 'c':
			errno = 0;
			count = strtol(optarg, &end, 10);
			if (errno || *end || count < 1 || count > 10000000) {
				fprintf(stderr, "ctl_latency: --count '%s' is not 1-10000000\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path || !iface || optind != argc || strlen(path) >= sizeof(addr.sun_path)) {
		usage(stderr);
		return 2;
	}
	if (strlen(iface) > 64 || (netns && strlen(netns) > 256) || strlen(hook) > 32) {
		fputs("ctl_latency: --iface, --netns or --hook too long\n", stderr);
		return 2;
	}
	strcpy(args, "\"iface\":");
	json_str(args, sizeof(args), iface);
	if (netns) {
		strcat(args, ",\"netns\":");
		json_str(args, sizeof(args), netns);
	}
	strcat(args, ",\"hook\":");
	json_str(args, sizeof(args), hook);

	add_us = calloc((size_t)count, sizeof(*add_us));
	del_us = calloc((size_t)count, sizeof(*del_us));
	if (!add_us || !del_us)
		die("out of memory");
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		die("socket: %s", strerror(errno));
	strcpy(addr.sun_path, path);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)))
		die("cannot connect to %s: %s", path, strerror(errno));

	anchor = add_drop(args, ANCHOR_PORT, reply, sizeof(reply));
	for (long i = 0; i < count; i++) {
		double t0 = now_us(), t1;
		long id = add_drop(args, 1 + (int)(i % (ANCHOR_PORT - 1)), reply, sizeof(reply));

		t1 = now_us();
		add_us[i] = t1 - t0;
		del(id, reply, sizeof(reply));
		del_us[i] = now_us() - t1;
	}
	del(anchor, reply, sizeof(reply));
	close(sock);

	a = summarize(add_us, count);
	d = summarize(del_us, count);
	if (json) {
		json_str(hook_json, sizeof(hook_json), hook);
		printf("{\"count\": %ld, \"hook\": %s, \"unit\": \"us\",\n"
		       " \"add\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f, \"mean\": %.1f},\n"
		       " \"del\": {\"p50\": %.1f, \"p90\": %.1f, \"p99\": %.1f, \"max\": %.1f, \"mean\": %.1f}}\n",
		       count, hook_json,
		       a.p50, a.p90, a.p99, a.max, a.mean, d.p50, d.p90, d.p99, d.max, d.mean);
	} else {
		printf("%ld add-drop + del pairs on %s %s, one request at a time (microseconds)\n",
		       count, iface, hook);
		printf("%-4s %9s %9s %9s %9s %9s\n", "", "p50", "p90", "p99", "max", "mean");
		printf("%-4s %9.1f %9.1f %9.1f %9.1f %9.1f\n", "add", a.p50, a.p90, a.p99, a.max, a.mean);
		printf("%-4s %9.1f %9.1f %9.1f %9.1f %9.1f\n", "del", d.p50, d.p90, d.p99, d.max, d.mean);
	}
	free(add_us);
	free(del_us);
	return 0;
}
