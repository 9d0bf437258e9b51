// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The wire protocol, driven through sl_protocol_handle() without a socket:
 * request envelope, argument checking, error codes, and one real rule on
 * loopback. The test moves into a network namespace of its own first, so
 * the tc filter it attaches never touches the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conntrack.h"
#include "daemon.h"
#include "protocol.h"
#include "ruleset.h"
#include "unit_check.h"

#define AT __FILE__, __LINE__

static struct sl_daemon dm;

/* ---- request/reply plumbing ---- */

/* A request fit for a failure line: cut short, bytes outside printable ASCII escaped. */
static const char *show(const char *req)
{
	static char buf[4 * 120 + 4];
	char *p = buf;

	for (size_t i = 0; req[i] && i < 120; i++) {
		unsigned char c = (unsigned char)req[i];

		p += c >= 0x20 && c < 0x7f ? sprintf(p, "%c", c) : sprintf(p, "\\x%02x", c);
	}
	if (strlen(req) > 120)
		p += sprintf(p, "...");
	*p = '\0';
	return buf;
}

/* Checks the reply envelope: id, ok, and exactly one of result or error. */
static void check_envelope(const char *file, int line, const char *req, json_t *r)
{
	json_t *ok = json_object_get(r, "ok"), *err = json_object_get(r, "error");

	ut_check(json_object_get(r, "id") != NULL, file, line, "reply to %s has no id", show(req));
	if (!ut_check(json_is_boolean(ok), file, line, "reply to %s: ok is not a boolean",
		      show(req)))
		return;
	ut_check(json_object_size(r) == 3, file, line, "reply to %s has %zu members", show(req),
		 json_object_size(r));
	if (json_is_true(ok)) {
		ut_check(json_is_object(json_object_get(r, "result")), file, line,
			 "reply to %s: result is not an object", show(req));
		return;
	}
	if (!ut_check(json_is_object(err) && json_object_size(err) == 2, file, line,
		      "reply to %s: error is not {code, message}", show(req)))
		return;
	ut_check(json_is_string(json_object_get(err, "code")), file, line,
		 "reply to %s: error.code is not a string", show(req));
	ut_check(json_is_string(json_object_get(err, "message")) &&
			 json_string_length(json_object_get(err, "message")) > 0,
		 file, line, "reply to %s: error.message empty or not a string", show(req));
}

/* Handles one request of len bytes; returns the parsed reply, or NULL (reported). */
static json_t *call_len(const char *file, int line, const char *req, size_t len)
{
	char *text = sl_protocol_handle(&dm, req, len);
	json_error_t jerr;
	json_t *r;

	if (!ut_check(text != NULL, file, line, "no reply at all to %s", show(req)))
		return NULL;
	ut_check(!strchr(text, '\n'), file, line, "reply spans several lines: %s", text);
	r = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	if (!ut_check(json_is_object(r), file, line, "reply is not a JSON object: %s (%s)", text,
		      jerr.text)) {
		json_decref(r);
		free(text);
		return NULL;
	}
	free(text);
	check_envelope(file, line, req, r);
	return r;
}

static json_t *call(const char *file, int line, const char *req)
{
	return call_len(file, line, req, strlen(req));
}

/* Returns a new reference to the result of a request that must succeed. */
static json_t *ok(const char *file, int line, const char *req)
{
	json_t *r = call(file, line, req), *res;

	if (!r)
		return NULL;
	res = json_object_get(r, "result");
	if (!ut_check(json_is_true(json_object_get(r, "ok")) && res, file, line,
		      "%s failed: %s: %s", show(req),
		      json_string_value(json_object_get(json_object_get(r, "error"), "code")),
		      json_string_value(json_object_get(json_object_get(r, "error"), "message")))) {
		json_decref(r);
		return NULL;
	}
	json_incref(res);
	json_decref(r);
	return res;
}

/*
 * A request that must fail with code; its message must contain `has` and
 * start with `prefix` when those are given. Returns whether all held.
 */
static bool err_len(const char *file, int line, const char *req, size_t len, const char *code,
		    const char *has, const char *prefix)
{
	json_t *r = call_len(file, line, req, len), *e;
	const char *c, *msg;
	bool good;

	if (!r)
		return false;
	e = json_object_get(r, "error");
	c = json_string_value(json_object_get(e, "code"));
	msg = json_string_value(json_object_get(e, "message"));
	good = ut_check(json_is_false(json_object_get(r, "ok")) && ut_str_eq(c, code), file, line,
			"%s: got %s (%s), want %s", show(req), c ? c : "success", msg ? msg : "",
			code);
	if (good && has)
		good = ut_check(msg && strstr(msg, has), file, line,
				"%s: message '%s' does not mention '%s'", show(req), msg, has);
	if (good && prefix)
		good = ut_check(msg && !strncmp(msg, prefix, strlen(prefix)), file, line,
				"%s: message '%s' does not start with '%s'", show(req), msg, prefix);
	json_decref(r);
	return good;
}

#define OK(req) ok(AT, req)
#define ERR(req, code) err_len(AT, req, strlen(req), code, NULL, NULL)
#define ERR_HAS(req, code, has) err_len(AT, req, strlen(req), code, has, NULL)
#define ERR_PREFIX(req, code, prefix) err_len(AT, req, strlen(req), code, NULL, prefix)

/* Formats a request; the caller frees it. */
static __attribute__((format(printf, 1, 2))) char *fmt(const char *f, ...)
{
	va_list ap;
	char *s;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

/* Compares JSON values and shows both on a mismatch. */
static bool same_json(const char *file, int line, json_t *got, const char *want_text)
{
	json_t *want = json_loads(want_text, JSON_DECODE_ANY, NULL);
	char *g = got ? json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
	bool good;

	if (!want) {
		fprintf(stderr, "test setup: bad JSON %s\n", want_text);
		abort();
	}
	good = ut_check(got && json_equal(got, want), file, line, "got %s, want %s",
			g ? g : "(nothing)", want_text);
	free(g);
	json_decref(want);
	return good;
}

#define SAME(got, want) same_json(AT, got, want)

/* An add-drop request with the given members of args. */
#define ADD_DROP(args) "{\"cmd\":\"add-drop\",\"args\":{" args "}}"

/* "a" then n two-byte characters (é), in buf. */
static void utf8_text(char *buf, int n)
{
	*buf++ = 'a';
	for (int i = 0; i < n; i++) {
		*buf++ = '\xc3';
		*buf++ = '\xa9';
	}
	*buf = '\0';
}

static size_t rule_count(void)
{
	return sl_ruleset_count(dm.rules);
}

/* ---- the envelope ---- */

static void test_hello(void)
{
	static const char *const cmds[] = { "hello", "status", "add-drop", "add-redirect",
					    "add-rewrite", "conntrack", "conntrack-flush",
					    "list",  "del",    "stats" };
	json_t *res = OK("{\"cmd\":\"hello\"}"), *list;

	if (!res)
		return;
	CHECK_INT(json_integer_value(json_object_get(res, "protocol")), ==, 1);
	CHECK(json_is_integer(json_object_get(res, "protocol")));
	CHECK_STR(json_string_value(json_object_get(res, "version")), SLUICE_VERSION);
	list = json_object_get(res, "commands");
	CHECK(json_is_array(list));
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		bool found = false;

		for (size_t j = 0; j < json_array_size(list); j++)
			found |= ut_str_eq(json_string_value(json_array_get(list, j)), cmds[i]);
		CHECK_MSG(found, "hello does not list '%s'", cmds[i]);
	}
	json_decref(res);

	/* An empty or null args object is the same as none. */
	res = OK("{\"cmd\":\"hello\",\"args\":{}}");
	json_decref(res);
	res = OK("{\"args\":null,\"cmd\":\"hello\"}");
	json_decref(res);
}

/* The id must come back unchanged, on success and on every kind of error. */
static void check_id(const char *file, int line, const char *id_json)
{
	static const char *const bodies[] = {
		"\"cmd\":\"hello\"",			       /* success */
		"\"cmd\":\"no-such-command\"",		       /* ENOSYS */
		"\"cmd\":\"list\",\"args\":{\"bogus\":1}",     /* EINVAL, unknown arg */
		"\"cmd\":\"del\",\"args\":{\"id\":999}",       /* ENOENT from the handler */
		"\"cmd\":\"hello\",\"extra\":true",	       /* EINVAL, envelope */
		"\"cmd\":7",				       /* EINVAL, cmd type */
		"\"cmd\":\"list\",\"args\":[]",		       /* EINVAL, args type */
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		char *req = id_json ? fmt("{\"id\":%s,%s}", id_json, bodies[i])
				    : fmt("{%s}", bodies[i]);
		json_t *r = call(file, line, req);

		if (r)
			same_json(file, line, json_object_get(r, "id"), id_json ? id_json : "null");
		json_decref(r);
		free(req);
	}
}

static void test_ids(void)
{
	check_id(AT, "7");
	check_id(AT, "0");
	check_id(AT, "-3");
	check_id(AT, "9007199254740993");
	check_id(AT, "1.5");
	check_id(AT, "\"abc\"");
	check_id(AT, "\"\"");
	check_id(AT, "{\"a\":[1,2,{\"b\":null}]}");
	check_id(AT, "[1,\"x\"]");
	check_id(AT, "true");
	check_id(AT, "null");
	check_id(AT, NULL); /* absent: the reply says null */
}

static void test_envelope_errors(void)
{
	char big[300];

	/* Not JSON at all, or not a single value. */
	ERR("", "EPROTO");
	ERR("{", "EPROTO");
	ERR("not json", "EPROTO");
	ERR("{\"cmd\":\"hello\"", "EPROTO");
	ERR("{\"cmd\":\"hello\",}", "EPROTO");
	ERR("{\"cmd\":\"hello\"} {}", "EPROTO");
	ERR("{\"cmd\":\"hello\"} trailing", "EPROTO");
	ERR("{'cmd':'hello'}", "EPROTO");
	ERR("{\"cmd\":\"hel\xff\"}", "EPROTO"); /* not UTF-8 */
	/* A NUL inside the line. */
	err_len(AT, "{\"cmd\":\"hello\"}\0", 16, "EPROTO", NULL, NULL);
	err_len(AT, "{\"cmd\":\"he\0lo\"}", 15, "EPROTO", NULL, NULL);
	/* Only len bytes are the request: what follows in memory is not read. */
	{
		json_t *r = call_len(AT, "{\"cmd\":\"hello\"}GARBAGE", 15);

		CHECK(r && json_is_true(json_object_get(r, "ok")));
		json_decref(r);
	}

	/* JSON, but not an object. */
	ERR("[]", "EPROTO");
	ERR("[{\"cmd\":\"hello\"}]", "EPROTO");
	ERR("5", "EPROTO");
	ERR("\"hello\"", "EPROTO");
	ERR("null", "EPROTO");
	ERR("true", "EPROTO");

	/* Duplicate members are refused at any depth, not silently resolved. */
	ERR("{\"cmd\":\"hello\",\"cmd\":\"hello\"}", "EPROTO");
	ERR("{\"cmd\":\"del\",\"cmd\":\"hello\"}", "EPROTO");
	ERR("{\"id\":1,\"id\":2,\"cmd\":\"hello\"}", "EPROTO");
	ERR("{\"cmd\":\"list\",\"args\":{\"iface\":\"a\",\"iface\":\"b\"}}", "EPROTO");

	/* cmd: required, a string, a known name. */
	ERR_HAS("{}", "EINVAL", "cmd");
	ERR_HAS("{\"id\":1}", "EINVAL", "cmd");
	ERR_HAS("{\"args\":{}}", "EINVAL", "cmd");
	ERR_HAS("{\"cmd\":null}", "EINVAL", "cmd");
	ERR_HAS("{\"cmd\":5}", "EINVAL", "cmd");
	ERR_HAS("{\"cmd\":true}", "EINVAL", "cmd");
	ERR_HAS("{\"cmd\":[\"hello\"]}", "EINVAL", "cmd");
	ERR_HAS("{\"cmd\":{\"name\":\"hello\"}}", "EINVAL", "cmd");
	/* jansson refuses \u0000 unless asked to: no NUL reaches a handler. */
	ERR("{\"cmd\":\"hel\\u0000lo\"}", "EPROTO");
	ERR_HAS("{\"cmd\":\"nope\"}", "ENOSYS", "nope");
	ERR("{\"cmd\":\"HELLO\"}", "ENOSYS");
	ERR("{\"cmd\":\"\"}", "ENOSYS");
	ERR("{\"cmd\":\" hello\"}", "ENOSYS");
	ERR("{\"cmd\":\"add_drop\"}", "ENOSYS");

	/* Unknown top-level members, even next to a valid request. */
	ERR_HAS("{\"cmd\":\"hello\",\"extra\":1}", "EINVAL", "extra");
	ERR_HAS("{\"cmd\":\"hello\",\"Args\":{}}", "EINVAL", "Args");
	ERR_HAS("{\"cmd\":\"hello\",\"ID\":1}", "EINVAL", "ID");

	/* args: an object. */
	ERR_HAS("{\"cmd\":\"list\",\"args\":[]}", "EINVAL", "args");
	ERR_HAS("{\"cmd\":\"list\",\"args\":5}", "EINVAL", "args");
	ERR_HAS("{\"cmd\":\"list\",\"args\":\"iface=lo\"}", "EINVAL", "args");
	ERR_HAS("{\"cmd\":\"list\",\"args\":true}", "EINVAL", "args");
	ERR_HAS("{\"cmd\":\"hello\",\"args\":[]}", "EINVAL", "args");

	/* Unknown arguments name themselves. */
	ERR_HAS("{\"cmd\":\"hello\",\"args\":{\"verbose\":true}}", "EINVAL", "verbose");
	ERR_HAS("{\"cmd\":\"list\",\"args\":{\"bogus\":1}}", "EINVAL", "bogus");
	ERR_HAS("{\"cmd\":\"list\",\"args\":{\"iface\":\"lo\",\"src\":\"10.0.0.0/8\"}}", "EINVAL",
		"src");
	ERR_HAS("{\"cmd\":\"status\",\"args\":{\"hook\":\"xdp\"}}", "EINVAL", "hook");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":1,\"iface\":\"lo\"}}", "EINVAL", "iface");
	ERR_HAS("{\"cmd\":\"stats\",\"args\":{\"ids\":[1]}}", "EINVAL", "ids");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"port\":\"80\""), "EINVAL", "port");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"proto\":\"tcp\",\"Dport\":80"), "EINVAL", "Dport");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"ether_type\":\"arp\""), "EINVAL", "ether_type");

	/*
	 * User text cut to fit a message must stay valid UTF-8: otherwise the
	 * reply cannot be encoded and the client gets no reply at all. With and
	 * without a leading ASCII byte, one of the two cuts lands inside a
	 * two-byte character.
	 */
	utf8_text(big, 140);
	for (int skip = 0; skip <= 1; skip++) {
		char *req;

		req = fmt("{\"cmd\":\"%s\"}", big + skip);
		ERR(req, "ENOSYS");
		free(req);
		req = fmt("{\"cmd\":\"list\",\"args\":{\"%s\":1}}", big + skip);
		ERR(req, "EINVAL");
		free(req);
		req = fmt(ADD_DROP("\"iface\":\"%s\",\"proto\":\"tcp\""), big + skip);
		ERR(req, "EINVAL");
		free(req);
	}
}

/* ---- argument types and values ---- */

static void test_arg_types(void)
{
	/* Strings must be strings. */
	ERR_HAS(ADD_DROP("\"iface\":5,\"proto\":\"tcp\""), "EINVAL", "iface");
	ERR_HAS(ADD_DROP("\"iface\":[\"lo\"],\"proto\":\"tcp\""), "EINVAL", "iface");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"hook\":1,\"proto\":\"tcp\""), "EINVAL", "hook");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"name\":1,\"proto\":\"tcp\""), "EINVAL", "name");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"netns\":1,\"proto\":\"tcp\""), "EINVAL", "netns");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"src\":167772160"), "EINVAL", "src");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"proto\":true"), "EINVAL", "proto");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"proto\":6.0"), "EINVAL", "proto");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"proto\":\"tcp\",\"dport\":[80]"), "EINVAL", "dport");
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"ether-type\":2054"), "EINVAL", "ether-type");
	ERR_HAS("{\"cmd\":\"list\",\"args\":{\"iface\":5}}", "EINVAL", "iface");
	ERR_HAS("{\"cmd\":\"list\",\"args\":{\"hook\":false}}", "EINVAL", "hook");
	ERR_HAS("{\"cmd\":\"status\",\"args\":{\"iface\":{}}}", "EINVAL", "iface");
	ERR_HAS("{\"cmd\":\"status\",\"args\":{\"netns\":5,\"iface\":\"lo\"}}", "EINVAL", "netns");

	/* Rule ids: a non-negative integer, nothing that merely looks like one. */
	ERR_HAS("{\"cmd\":\"del\"}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":null}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":\"1\"}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":-1}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":1.0}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":1.5}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":1e3}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":true}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":[1]}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"stats\",\"args\":{\"id\":\"1\"}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"stats\",\"args\":{\"id\":-5}}", "EINVAL", "id");
	ERR_HAS("{\"cmd\":\"stats\",\"args\":{\"id\":2.5}}", "EINVAL", "id");
	/* Beyond what JSON integers hold here: not even parsed. */
	ERR("{\"cmd\":\"del\",\"args\":{\"id\":18446744073709551616}}", "EPROTO");
	/* The largest id is valid, and simply does not exist. */
	ERR("{\"cmd\":\"del\",\"args\":{\"id\":9223372036854775807}}", "ENOENT");
	ERR("{\"cmd\":\"del\",\"args\":{\"id\":0}}", "ENOENT");
}

/* Writes a sysctl of the test's own namespace. */
static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fputs(text, f) < 0 ? -EIO : 0;
	if (fclose(f))
		rc = -errno;
	return rc;
}

/* An add-redirect request with the given members of args. */
#define ADD_REDIR(args) "{\"cmd\":\"add-redirect\",\"args\":{" args "}}"

static void test_add_redirect(void)
{
	size_t before = rule_count();
	json_t *res, *rule;
	long long id1, id2, id3;
	char *req;

	/* Refused before anything changes, each with the argument it is about. */
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\""), "EINVAL",
		"mode");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"bounce\""), "EINVAL", "mode: ");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"mode\":\"egress\""),
		"EINVAL", "to");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"nope0\","
			  "\"mode\":\"egress\""), "ENODEV", "nope0");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"hook\":\"xdp\""), "EINVAL", "tc");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"peer\""), "EINVAL", "veth");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"peer\",\"hook\":\"tc-egress\""), "EINVAL", "tc-ingress");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"dst-mac\":\"zz:00:00:00:00:01\""), "EINVAL",
		"dst-mac: ");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"src-mac\":\"02:00:00:00:00\""), "EINVAL",
		"src-mac: ");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"priority\":65536"), "EINVAL", "priority");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"priority\":-1"), "EINVAL", "priority");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"egress\",\"via\":\"x\""), "EINVAL", "via");
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"to\":\"lo\",\"mode\":\"egress\""), "EINVAL",
		"match field");
	/* add-drop does not take redirect arguments. */
	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"proto\":\"tcp\",\"to\":\"lo\""), "EINVAL", "to");
	CHECK_INT(rule_count(), ==, before);

	/* Accepted: tc-ingress by default, MACs left alone for a target that is not a veth. */
	res = OK(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			   "\"mode\":\"egress\""));
	id1 = res ? json_integer_value(json_object_get(res, "id")) : 0;
	json_decref(res);
	req = fmt("{\"cmd\":\"list\",\"args\":{\"hook\":\"tc-ingress\"}}");
	res = OK(req);
	free(req);
	rule = res ? json_array_get(json_object_get(res, "rules"), 0) : NULL;
	CHECK(rule != NULL);
	if (rule) {
		CHECK_INT(json_integer_value(json_object_get(rule, "id")), ==, id1);
		CHECK_STR(json_string_value(json_object_get(rule, "kind")), "redirect");
		CHECK_STR(json_string_value(json_object_get(rule, "to")), "lo");
		CHECK_STR(json_string_value(json_object_get(rule, "mode")), "egress");
		CHECK_INT(json_integer_value(json_object_get(rule, "priority")), ==, 100);
		CHECK(json_is_null(json_object_get(rule, "dst-mac")));
		CHECK(json_is_null(json_object_get(rule, "set_dst_mac")));
		CHECK(json_is_integer(json_object_get(rule, "fallbacks")));
	}
	json_decref(res);

	/* The same match again is ambiguous; a priority ranks it; a drop may share it. */
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			  "\"mode\":\"neigh\""), "EEXIST", "priority");
	res = OK(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.9.0.0/16\",\"to\":\"lo\","
			   "\"mode\":\"ingress\",\"priority\":5,\"dst-mac\":\"02:00:00:00:00:09\""));
	id2 = res ? json_integer_value(json_object_get(res, "id")) : 0;
	json_decref(res);
	res = OK(ADD_DROP("\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"dst\":\"10.9.0.0/16\""));
	id3 = res ? json_integer_value(json_object_get(res, "id")) : 0;
	json_decref(res);
	/* route needs no target, but the FIB helper needs forwarding somewhere. */
	ERR_HAS(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.8.0.0/16\",\"mode\":\"route\""),
		"EINVAL", "net.ipv4.conf.lo.forwarding=1");
	CHECK(write_file("/proc/sys/net/ipv4/conf/lo/forwarding", "1") == 0);
	res = OK(ADD_REDIR("\"iface\":\"lo\",\"dst\":\"10.8.0.0/16\",\"mode\":\"route\""));
	if (res) {
		req = fmt("{\"cmd\":\"del\",\"args\":{\"id\":%lld}}",
			  (long long)json_integer_value(json_object_get(res, "id")));
		json_decref(OK(req));
		free(req);
	}
	json_decref(res);
	CHECK_INT(rule_count(), ==, before + 3);
	for (long long id = id1; id <= id3 && id; id++) {
		req = fmt("{\"cmd\":\"del\",\"args\":{\"id\":%lld}}", id);
		json_decref(OK(req));
		free(req);
	}
	CHECK(id2 == id1 + 1 && id3 == id2 + 1);
	CHECK_INT(rule_count(), ==, before);
}

/* An add-rewrite request with the given members of args. */
#define ADD_RW(args) "{\"cmd\":\"add-rewrite\",\"args\":{" args "}}"

static void test_add_rewrite(void)
{
	size_t before = rule_count(), attaches = sl_ruleset_attach_count(dm.rules);
	json_t *res, *rule;
	long long id;
	char *req;

	/* Refused before anything changes, each with what it is about. */
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\""), "EINVAL", "at least one");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.0/24\""),
		"EINVAL", "to-dst: ");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"fd00::1\""),
		"EINVAL", "IPv6");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"proto\":\"udp\",\"to-src\":\"10.0.0.1\",\"to-dst\":\"fd00::1\""),
		"EINVAL", "one family");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"proto\":\"tcp\",\"to-dport\":\"80\""), "EINVAL",
		"family");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dport\":\"80-90\""),
		"EINVAL", "to-dport: ");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-sport\":\"70000\""),
		"EINVAL", "to-sport: ");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"proto\":\"gre\","
		       "\"to-dst\":\"10.1.0.1\""), "EINVAL", "proto");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"proto\":\"icmp\","
		       "\"to-dport\":\"80\""), "EINVAL", "ICMP");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"fd00::9\",\"proto\":\"icmp\","
		       "\"to-dst\":\"fd00::1\""), "EINVAL", "icmp");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"hook\":\"xdp\""), "EINVAL", "tc");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"mode\":\"neigh\""), "EINVAL", "redirect");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"redirect\":\"lo\""), "EINVAL", "mode");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"redirect\":\"nope0\",\"mode\":\"neigh\""), "ENODEV", "nope0");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"dst-mac\":\"02:00:00:00:00:01\""), "EINVAL", "dst-mac");
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"dst\":\"10.9.0.1\",\"to-dst\":\"10.1.0.1\","
		       "\"to\":\"lo\""), "EINVAL", "to");
	ERR_HAS("{\"cmd\":\"conntrack-flush\",\"args\":{\"rule\":999}}", "ENOENT", "999");
	CHECK_INT(rule_count(), ==, before);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, attaches);

	/* A tc-ingress DNAT: its replies are restored on lo's tc-egress, attached with it. */
	res = OK(ADD_RW("\"iface\":\"lo\",\"proto\":\"tcp\",\"dst\":\"10.9.0.1\","
			"\"dport\":\"80\",\"to-dst\":\"127.0.0.1\",\"to-dport\":\"8080\","
			"\"name\":\"web\""));
	id = res ? json_integer_value(json_object_get(res, "id")) : 0;
	json_decref(res);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, attaches + 2);
	req = fmt("{\"cmd\":\"list\",\"args\":{\"hook\":\"tc-ingress\"}}");
	res = OK(req);
	free(req);
	rule = res ? json_array_get(json_object_get(res, "rules"), 0) : NULL;
	CHECK(rule != NULL);
	if (rule) {
		CHECK_INT(json_integer_value(json_object_get(rule, "id")), ==, id);
		CHECK_STR(json_string_value(json_object_get(rule, "kind")), "rewrite");
		CHECK_STR(json_string_value(json_object_get(rule, "to-dst")), "127.0.0.1");
		CHECK_STR(json_string_value(json_object_get(rule, "to-dport")), "8080");
		CHECK(json_is_null(json_object_get(rule, "to-src")));
		CHECK(json_is_null(json_object_get(rule, "redirect")));
		CHECK_STR(json_string_value(json_object_get(json_object_get(rule, "replies"),
							    "hook")),
			  "tc-egress");
	}
	json_decref(res);
	ERR_HAS(ADD_RW("\"iface\":\"lo\",\"proto\":\"tcp\",\"dst\":\"10.9.0.1\","
		       "\"dport\":\"80\",\"to-dst\":\"127.0.0.2\""), "EEXIST", "priority");
	res = OK("{\"cmd\":\"conntrack\"}");
	if (res) {
		CHECK_INT(json_integer_value(json_object_get(res, "count")), ==, 0);
		CHECK(json_is_array(json_object_get(res, "flows")));
		CHECK(json_integer_value(json_object_get(res, "capacity")) > 0);
	}
	json_decref(res);
	req = fmt("{\"cmd\":\"conntrack-flush\",\"args\":{\"rule\":%lld}}", id);
	res = OK(req);
	free(req);
	if (res)
		CHECK_INT(json_integer_value(json_object_get(res, "flushed")), ==, 0);
	json_decref(res);

	/* Deleting it takes its reply point too. */
	req = fmt("{\"cmd\":\"del\",\"args\":{\"id\":%lld}}", id);
	json_decref(OK(req));
	free(req);
	CHECK_INT(rule_count(), ==, before);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, attaches);
}

/* One add-drop on lo with a single extra argument, which must be refused. */
static void bad_field(const char *file, int line, const char *name, const char *json_value,
		      const char *code, bool prefixed)
{
	char *req = fmt(ADD_DROP("\"iface\":\"lo\",\"%s\":%s"), name, json_value);
	char prefix[40];

	snprintf(prefix, sizeof(prefix), "%s: ", name);
	/* Parser errors are prefixed with the argument; type errors quote it. */
	err_len(file, line, req, strlen(req), code, prefixed ? NULL : name,
		prefixed ? prefix : NULL);
	free(req);
}

static void test_add_drop_validation(void)
{
	char *req, longsrc[200 + 1];
	size_t before = rule_count();

	bad_field(AT, "src", "\"10.0.0.0/33\"", "EINVAL", true);
	bad_field(AT, "src", "\"10.0.0.1/8\"", "EINVAL", true);
	bad_field(AT, "src", "\"10.0.0.0/-1\"", "EINVAL", true);
	bad_field(AT, "src", "\"10.0.0.0/abc\"", "EINVAL", true);
	bad_field(AT, "src", "\"\"", "EINVAL", true);
	bad_field(AT, "src", "\"garbage\"", "EINVAL", true);
	bad_field(AT, "src", "\" 10.0.0.0/8\"", "EINVAL", true);
	bad_field(AT, "src", "\"10.0.0.0/8 \"", "EINVAL", true);
	bad_field(AT, "src", "5", "EINVAL", true);
	bad_field(AT, "dst", "\"::/129\"", "EINVAL", true);
	bad_field(AT, "dst", "\"fd00::1/64\"", "EINVAL", true);
	bad_field(AT, "dst", "\"fe80::1%lo\"", "EINVAL", true);
	bad_field(AT, "proto", "\"256\"", "EINVAL", true);
	bad_field(AT, "proto", "256", "EINVAL", true);
	bad_field(AT, "proto", "\"-1\"", "EINVAL", true);
	bad_field(AT, "proto", "\"ip\"", "EINVAL", true);
	bad_field(AT, "proto", "\"\"", "EINVAL", true);
	bad_field(AT, "sport", "\"65536\"", "EINVAL", true);
	bad_field(AT, "sport", "65536", "EINVAL", true);
	bad_field(AT, "sport", "\"-5\"", "EINVAL", true);
	bad_field(AT, "dport", "\"90-80\"", "EINVAL", true);
	bad_field(AT, "dport", "\"5-\"", "EINVAL", true);
	bad_field(AT, "dport", "\"1-2-3\"", "EINVAL", true);
	bad_field(AT, "dport", "\"+5\"", "EINVAL", true);
	bad_field(AT, "dport", "\"a\"", "EINVAL", true);
	bad_field(AT, "ether-type", "\"0x05ff\"", "EINVAL", true);
	bad_field(AT, "ether-type", "\"0x10000\"", "EINVAL", true);
	bad_field(AT, "ether-type", "\"0x\"", "EINVAL", true);
	bad_field(AT, "ether-type", "\"0xzz\"", "EINVAL", true);
	bad_field(AT, "ether-type", "\"ip\"", "EINVAL", true);
	bad_field(AT, "hook", "\"bogus\"", "EINVAL", true);
	bad_field(AT, "hook", "\"XDP\"", "EINVAL", true);
	bad_field(AT, "hook", "\"tc\"", "EINVAL", true);
	/* Integers are accepted where the text is, but never negative. */
	bad_field(AT, "proto", "-1", "EINVAL", false);
	bad_field(AT, "dport", "-1", "EINVAL", false);
	/* NUL bytes never reach a parser. */
	ERR(ADD_DROP("\"iface\":\"lo\",\"src\":\"10.0.0.0\\u0000/8\""), "EPROTO");
	/* Longer than any valid value: refused by length, naming the argument. */
	memset(longsrc, '1', sizeof(longsrc) - 1);
	longsrc[sizeof(longsrc) - 1] = '\0';
	req = fmt("\"%s\"", longsrc);
	bad_field(AT, "src", req, "EINVAL", false);
	bad_field(AT, "dport", req, "EINVAL", false);
	free(req);

	/* iface: required, 1-15 bytes. */
	ERR_HAS(ADD_DROP("\"proto\":\"tcp\""), "EINVAL", "iface");
	ERR_HAS("{\"cmd\":\"add-drop\"}", "EINVAL", "iface");
	ERR_HAS(ADD_DROP("\"iface\":null,\"proto\":\"tcp\""), "EINVAL", "iface");
	ERR_HAS(ADD_DROP("\"iface\":\"\",\"proto\":\"tcp\""), "EINVAL", "iface");
	ERR_HAS(ADD_DROP("\"iface\":\"abcdefghijklmnop\",\"proto\":\"tcp\""), "EINVAL", "iface");

	/* Fields that parse but do not fit together. */
	ERR(ADD_DROP("\"iface\":\"lo\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"name\":\"x\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"src\":\"10.0.0.0/8\",\"dst\":\"fd00::/64\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"proto\":\"icmp\",\"src\":\"fd00::/64\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"proto\":\"icmpv6\",\"dst\":\"10.0.0.1\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"dport\":80"), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"proto\":\"icmp\",\"dport\":80"), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"ether-type\":\"arp\",\"src\":\"10.0.0.1\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"ether-type\":\"ipv4\",\"src\":\"fd00::1\""), "EINVAL");

	/* name: up to 64 bytes. */
	req = fmt(ADD_DROP("\"iface\":\"lo\",\"proto\":\"tcp\",\"name\":\"%065d\""), 0);
	ERR_HAS(req, "EINVAL", "name");
	free(req);

	CHECK_INT(rule_count(), ==, before);
}

/* Refusals that come from the system: interfaces and namespaces. */
static void test_add_drop_system_errors(void)
{
	char big[300], *req;

	ERR_HAS(ADD_DROP("\"iface\":\"nosuch0\",\"proto\":\"tcp\""), "ENODEV", "nosuch0");
	ERR(ADD_DROP("\"iface\":\"nosuch0\",\"hook\":\"tc-ingress\",\"proto\":\"tcp\""), "ENODEV");
	ERR(ADD_DROP("\"iface\":\"nosuch0\",\"hook\":\"tc-egress\",\"ether-type\":\"arp\""),
	    "ENODEV");

	ERR_HAS(ADD_DROP("\"iface\":\"lo\",\"netns\":\"nosuchns_xyz\",\"proto\":\"tcp\""),
		"ENOENT", "nosuchns_xyz");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:abc\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:0\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:-1\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:12x\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:99999999999\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"pid:2147483646\",\"proto\":\"tcp\""), "ENOENT");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"../x\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"a/b\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"..\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\".\",\"proto\":\"tcp\""), "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"/nonexistent/netns\",\"proto\":\"tcp\""),
	    "ENOENT");
	/* Files that exist but are not network namespaces. */
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"/proc/self/ns/mnt\",\"proto\":\"tcp\""),
	    "EINVAL");
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"/dev/null\",\"proto\":\"tcp\""), "EINVAL");
	/* A long non-ASCII name: the message quoting it must still encode. */
	utf8_text(big, 120);
	for (int skip = 0; skip <= 1; skip++) {
		req = fmt(ADD_DROP("\"iface\":\"lo\",\"netns\":\"%s\",\"proto\":\"tcp\""),
			  big + skip);
		ERR(req, "ENOENT");
		free(req);
	}

	/* status and list check their arguments the same way. */
	ERR_HAS("{\"cmd\":\"status\",\"args\":{\"iface\":\"nosuch0\"}}", "ENODEV", "nosuch0");
	ERR("{\"cmd\":\"status\",\"args\":{\"netns\":\"nosuchns_xyz\"}}", "EINVAL");
	ERR("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\",\"netns\":\"nosuchns_xyz\"}}", "ENOENT");
	ERR("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\",\"netns\":\"../x\"}}", "EINVAL");
	ERR_HAS("{\"cmd\":\"list\",\"args\":{\"hook\":\"bogus\"}}", "EINVAL", "hook");

	CHECK_INT(rule_count(), ==, 0);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 0);
}

/* ---- commands on an empty table ---- */

static void test_empty_table(void)
{
	json_t *res, *hooks;

	res = OK("{\"cmd\":\"list\"}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	res = OK("{\"cmd\":\"list\",\"args\":{\"iface\":\"lo\",\"hook\":\"tc-ingress\"}}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	res = OK("{\"cmd\":\"stats\"}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	res = OK("{\"cmd\":\"stats\",\"args\":{}}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	ERR_HAS("{\"cmd\":\"del\",\"args\":{\"id\":999}}", "ENOENT", "999");
	ERR_HAS("{\"cmd\":\"stats\",\"args\":{\"id\":999}}", "ENOENT", "999");

	res = OK("{\"cmd\":\"status\"}");
	if (res) {
		CHECK_STR(json_string_value(json_object_get(res, "version")), SLUICE_VERSION);
		CHECK(json_is_integer(json_object_get(res, "pid")));
		CHECK_INT(json_integer_value(json_object_get(res, "pid")), ==, getpid());
		CHECK(json_is_integer(json_object_get(res, "rules")));
		CHECK_INT(json_integer_value(json_object_get(res, "rules")), ==, 0);
		CHECK(json_is_integer(json_object_get(res, "uptime_s")));
		CHECK_INT(json_integer_value(json_object_get(res, "uptime_s")), >=, 0);
		CHECK_STR(json_string_value(json_object_get(res, "socket")), dm.socket_path);
		CHECK_STR(json_string_value(json_object_get(res, "bpffs")), dm.bpffs);
		hooks = json_object_get(res, "hooks");
		CHECK(json_is_array(hooks) && json_array_size(hooks) == 0);
		CHECK(json_object_get(res, "interface") == NULL);
		json_decref(res);
	}
	/* With an interface: what is attached there (nothing of ours yet). */
	res = OK("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\"}}");
	if (res) {
		json_t *itf = json_object_get(res, "interface");

		CHECK_STR(json_string_value(json_object_get(itf, "iface")), "lo");
		CHECK(json_is_null(json_object_get(itf, "netns")));
		CHECK(json_is_array(json_object_get(itf, "attached")));
		CHECK_INT(json_array_size(json_object_get(itf, "attached")), ==, 0);
		json_decref(res);
	}
}

/* ---- one real rule on loopback ---- */

/* The id of a successful add-drop, or 0. */
static json_int_t add(const char *file, int line, const char *args)
{
	char *req = fmt("{\"cmd\":\"add-drop\",\"args\":%s}", args);
	json_t *res = ok(file, line, req);
	json_int_t id = 0;

	free(req);
	if (!res)
		return 0;
	ut_check(json_object_size(res) == 1 && json_is_integer(json_object_get(res, "id")) &&
			 json_integer_value(json_object_get(res, "id")) > 0,
		 file, line, "add-drop result is not {\"id\": N}");
	id = json_integer_value(json_object_get(res, "id"));
	json_decref(res);
	return id;
}

static bool del(const char *file, int line, json_int_t id)
{
	char *req = fmt("{\"cmd\":\"del\",\"args\":{\"id\":%lld}}", (long long)id);
	json_t *res = ok(file, line, req);
	char *want = fmt("{\"id\":%lld}", (long long)id);
	bool good = res && same_json(file, line, res, want);

	json_decref(res);
	free(req);
	free(want);
	return good;
}

/* Whether the attached list of status holds sluice's tc program with prog_id. */
static bool has_sluice_tc(json_t *attached, json_int_t prog_id, const char *hook)
{
	for (size_t i = 0; i < json_array_size(attached); i++) {
		json_t *a = json_array_get(attached, i);

		if (json_is_true(json_object_get(a, "sluice")) &&
		    ut_str_eq(json_string_value(json_object_get(a, "hook")), hook) &&
		    (!prog_id || json_integer_value(json_object_get(a, "prog_id")) == prog_id))
			return true;
	}
	return false;
}

/* Checks whether lo has a clsact qdisc; a missing tc tool only skips the check. */
static void check_clsact(const char *file, int line, bool want)
{
	FILE *f = popen("tc qdisc show dev lo 2>/dev/null", "r");
	char text[256];
	bool found = false;

	if (!f)
		return;
	while (fgets(text, sizeof(text), f))
		found |= strstr(text, "clsact") != NULL;
	if (pclose(f) != 0)
		return;
	ut_check(found == want, file, line, "lo %s a clsact qdisc", found ? "has" : "lacks");
}

#define CHECK_CLSACT(want) check_clsact(AT, want)

#define NAME64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_loopback_rule(void)
{
	const char *args =
		"{\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"proto\":\"udp\",\"dport\":\"1-2\"}";
	json_t *res, *hook, *rule;
	json_int_t id, id2, id3, prog_id = 0;
	char *want;

	CHECK_CLSACT(false);
	id = add(AT, args);
	if (!CHECK(id > 0))
		return;
	CHECK_CLSACT(true);
	CHECK_INT(rule_count(), ==, 1);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 1);

	res = OK("{\"cmd\":\"list\"}");
	want = fmt("{\"rules\":[{\"id\":%lld,\"kind\":\"drop\",\"name\":null,\"iface\":\"lo\","
		   "\"netns\":null,\"hook\":\"tc-ingress\",\"src\":null,\"dst\":null,"
		   "\"proto\":\"udp\",\"sport\":null,\"dport\":\"1-2\",\"ether-type\":null,"
		   "\"packets\":0,\"bytes\":0,\"attached\":true,\"detached_why\":null}]}",
		   (long long)id);
	SAME(res, want);
	json_decref(res);

	/* Filters select it or not. */
	res = OK("{\"cmd\":\"list\",\"args\":{\"iface\":\"lo\",\"hook\":\"tc-ingress\"}}");
	SAME(res, want);
	json_decref(res);
	free(want);
	res = OK("{\"cmd\":\"list\",\"args\":{\"hook\":\"xdp\"}}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	res = OK("{\"cmd\":\"list\",\"args\":{\"iface\":\"eth0\"}}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);

	want = fmt("{\"rules\":[{\"id\":%lld,\"kind\":\"drop\",\"packets\":0,\"bytes\":0,"
		   "\"fallbacks\":0,\"neigh_misses\":0,\"nat_failures\":0}]}", (long long)id);
	res = OK("{\"cmd\":\"stats\"}");
	SAME(res, want);
	json_decref(res);
	free(want);

	/* The hook shows in status, with sluice's program on the interface. */
	res = OK("{\"cmd\":\"status\"}");
	if (res) {
		CHECK_INT(json_integer_value(json_object_get(res, "rules")), ==, 1);
		CHECK_INT(json_array_size(json_object_get(res, "hooks")), ==, 1);
		hook = json_array_get(json_object_get(res, "hooks"), 0);
		CHECK_STR(json_string_value(json_object_get(hook, "iface")), "lo");
		CHECK(json_is_null(json_object_get(hook, "netns")));
		CHECK_STR(json_string_value(json_object_get(hook, "hook")), "tc-ingress");
		CHECK_INT(json_integer_value(json_object_get(hook, "ifindex")), ==,
			  if_nametoindex("lo"));
		prog_id = json_integer_value(json_object_get(hook, "prog_id"));
		CHECK_INT(prog_id, >, 0);
		CHECK_INT(json_integer_value(json_object_get(hook, "rules")), ==, 1);
		/* udp in two families, ports 1 and 2 sharing one mask: two shapes. */
		CHECK_INT(json_integer_value(json_object_get(hook, "shapes")), ==, 2);
		CHECK(has_sluice_tc(json_object_get(hook, "attached"), prog_id, "tc-ingress"));
		json_decref(res);
	}
	res = OK("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\"}}");
	if (res) {
		CHECK(has_sluice_tc(json_object_get(json_object_get(res, "interface"), "attached"),
				    prog_id, "tc-ingress"));
		json_decref(res);
	}

	/* The same rule again, however it is spelled, is refused and changes nothing. */
	{
		char *req = fmt("{\"cmd\":\"add-drop\",\"args\":%s}", args);

		ERR_HAS(req, "EEXIST", "lo");
		free(req);
	}
	ERR(ADD_DROP("\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"proto\":17,\"dport\":\"1-2\""),
	    "EEXIST");
	ERR(ADD_DROP("\"hook\":\"tc-ingress\",\"dport\":\"1-2\",\"iface\":\"lo\","
		     "\"proto\":\"UDP\",\"netns\":null"),
	    "EEXIST");
	/* Our own namespace named by path or by pid is still the same interface. */
	ERR(ADD_DROP("\"iface\":\"lo\",\"netns\":\"/proc/self/ns/net\",\"hook\":\"tc-ingress\","
		     "\"proto\":\"udp\",\"dport\":\"1-2\""),
	    "EEXIST");
	{
		char *req = fmt("{\"cmd\":\"add-drop\",\"args\":{\"iface\":\"lo\",\"netns\":\"pid:%d\","
				"\"hook\":\"tc-ingress\",\"proto\":\"udp\",\"dport\":\"1-2\"}}",
				(int)getpid());

		ERR(req, "EEXIST");
		free(req);
	}
	CHECK_INT(rule_count(), ==, 1);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 1);

	/* More rules on the same hook: every field prints back canonically. */
	id2 = add(AT, "{\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"name\":\"web\","
		      "\"src\":\"10.0.0.0/8\",\"dst\":\"10.1.2.3/32\",\"proto\":6,\"sport\":80,"
		      "\"dport\":\"1000-2000\",\"ether-type\":\"IPv4\"}");
	/* A name of exactly the 64 bytes allowed. */
	id3 = add(AT, "{\"iface\":\"lo\",\"hook\":\"tc-ingress\",\"ether-type\":\"0x88CC\","
		      "\"name\":\"" NAME64 "\"}");
	CHECK_INT(id2, >, id);
	CHECK_INT(id3, >, id2);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 1);
	res = OK("{\"cmd\":\"list\"}");
	CHECK_INT(json_array_size(json_object_get(res, "rules")), ==, 3);
	rule = json_array_get(json_object_get(res, "rules"), 1);
	want = fmt("{\"id\":%lld,\"kind\":\"drop\",\"name\":\"web\",\"iface\":\"lo\","
		   "\"netns\":null,\"hook\":\"tc-ingress\",\"src\":\"10.0.0.0/8\","
		   "\"dst\":\"10.1.2.3\",\"proto\":\"tcp\",\"sport\":\"80\",\"dport\":\"1000-2000\","
		   "\"ether-type\":\"ipv4\",\"packets\":0,\"bytes\":0,\"attached\":true,\"detached_why\":null}",
		   (long long)id2);
	SAME(rule, want);
	free(want);
	rule = json_array_get(json_object_get(res, "rules"), 2);
	CHECK_STR(json_string_value(json_object_get(rule, "ether-type")), "0x88cc");
	CHECK(json_is_null(json_object_get(rule, "proto")));
	CHECK_STR(json_string_value(json_object_get(rule, "name")), NAME64);
	json_decref(res);
	want = fmt("{\"rules\":[{\"id\":%lld,\"kind\":\"drop\",\"packets\":0,\"bytes\":0,"
		   "\"fallbacks\":0,\"neigh_misses\":0,\"nat_failures\":0}]}", (long long)id2);
	{
		char *req = fmt("{\"cmd\":\"stats\",\"args\":{\"id\":%lld}}", (long long)id2);

		res = OK(req);
		SAME(res, want);
		json_decref(res);
		free(req);
	}
	free(want);
	CHECK(del(AT, id2));
	CHECK(del(AT, id3));

	/* The same match on the other tc hook is another rule, on another hook. */
	id2 = add(AT, "{\"iface\":\"lo\",\"hook\":\"tc-egress\",\"proto\":\"udp\",\"dport\":\"1-2\"}");
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 2);
	res = OK("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\"}}");
	if (res) {
		json_t *att = json_object_get(json_object_get(res, "interface"), "attached");

		CHECK(has_sluice_tc(att, 0, "tc-ingress"));
		CHECK(has_sluice_tc(att, 0, "tc-egress"));
		json_decref(res);
	}
	res = OK("{\"cmd\":\"list\",\"args\":{\"hook\":\"tc-egress\"}}");
	CHECK_INT(json_array_size(json_object_get(res, "rules")), ==, 1);
	json_decref(res);
	if (id2)
		CHECK(del(AT, id2));
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 1);
	{
		char *req = fmt("{\"cmd\":\"stats\",\"args\":{\"id\":%lld}}", (long long)id2);

		ERR(req, "ENOENT");
		free(req);
	}

	/* Deleting the last rule detaches the hook. */
	CHECK(del(AT, id));
	CHECK_INT(rule_count(), ==, 0);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 0);
	res = OK("{\"cmd\":\"list\"}");
	SAME(res, "{\"rules\":[]}");
	json_decref(res);
	{
		char *req = fmt("{\"cmd\":\"del\",\"args\":{\"id\":%lld}}", (long long)id);

		ERR(req, "ENOENT");
		free(req);
	}
	res = OK("{\"cmd\":\"status\",\"args\":{\"iface\":\"lo\"}}");
	if (res) {
		CHECK_INT(json_array_size(json_object_get(res, "hooks")), ==, 0);
		CHECK(!has_sluice_tc(json_object_get(json_object_get(res, "interface"), "attached"),
				     0, "tc-ingress"));
		json_decref(res);
	}

	/* sluice made the clsact qdisc, so it took it away again. */
	CHECK_CLSACT(false);

	/* Ids are never reused. */
	id2 = add(AT, args);
	CHECK_INT(id2, >, id3);
	if (id2)
		CHECK(del(AT, id2));
	CHECK_INT(rule_count(), ==, 0);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 0);
}

/*
 * A hook holds at most 32 distinct shapes: /0 to /31 take them all, /32 is
 * refused with ENOSPC and leaves the table as it was.
 */
static void test_shape_limit(void)
{
	json_int_t ids[33] = { 0 };
	json_t *res;
	char *req;
	int p;

	for (p = 0; p < 32; p++) {
		req = fmt("{\"iface\":\"lo\",\"hook\":\"tc-egress\",\"src\":\"0.0.0.0/%d\"}", p);
		ids[p] = add(AT, req);
		free(req);
	}
	CHECK_INT(rule_count(), ==, 32);
	ERR_HAS("{\"cmd\":\"add-drop\",\"args\":{\"iface\":\"lo\",\"hook\":\"tc-egress\","
		"\"src\":\"0.0.0.0/32\"}}",
		"ENOSPC", "32");
	/* An existing shape still takes more rules. */
	ids[32] = add(AT, "{\"iface\":\"lo\",\"hook\":\"tc-egress\",\"src\":\"10.0.0.0/8\"}");
	CHECK_INT(rule_count(), ==, 33);
	res = OK("{\"cmd\":\"status\"}");
	if (res) {
		json_t *hook = json_array_get(json_object_get(res, "hooks"), 0);

		CHECK_INT(json_integer_value(json_object_get(hook, "shapes")), ==, 32);
		CHECK_INT(json_integer_value(json_object_get(hook, "rules")), ==, 33);
		CHECK_STR(json_string_value(json_object_get(hook, "mode")), "");
		json_decref(res);
	}
	for (p = 0; p < 33; p++)
		if (ids[p])
			CHECK(del(AT, ids[p]));
	CHECK_INT(rule_count(), ==, 0);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 0);
	CHECK_CLSACT(false);
}

/* Loopback starts down in a new namespace. */
static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (!rc) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	rc = rc ? -errno : 0;
	close(fd);
	return rc;
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skipped: needs root for a network namespace of its own\n");
		ut_summary();
		return 77;
	}
	/* Everything below, the tc filter included, happens in a throwaway namespace. */
	if (!CHECK(unshare(CLONE_NEWNET) == 0)) {
		perror("unshare(CLONE_NEWNET)");
		return ut_summary();
	}
	CHECK_INT(lo_up(), ==, 0);

	{
		struct sl_ct_opts cto = { .max_flows = 1024 };
		struct sl_err err = { 0 };

		if (!CHECK(sl_dp_ct_new(&cto, &dm.ct, &err) == 0))
			printf("conntrack: %s\n", err.msg);
	}
	struct sl_dp_opts dpo = { .ct = dm.ct };

	dm.rules = sl_ruleset_new(&dpo);
	dm.socket_path = "/run/sluice-unit-test/sluiced.sock";
	dm.state_dir = "/run/sluice-unit-test";
	dm.bpffs = "/sys/fs/bpf/sluice-unit-test";
	dm.started = time(NULL);
	if (!CHECK(dm.rules != NULL))
		return ut_summary();

	test_hello();
	test_ids();
	test_envelope_errors();
	test_arg_types();
	test_add_drop_validation();
	test_add_redirect();
	test_add_rewrite();
	test_add_drop_system_errors();
	test_empty_table();
	/* Nothing refused above may have left a trace. */
	CHECK_INT(sl_ruleset_count(dm.rules), ==, 0);
	CHECK_INT(sl_ruleset_attach_count(dm.rules), ==, 0);

	test_loopback_rule();
	test_shape_limit();

	sl_ruleset_free(dm.rules);
	sl_dp_ct_free(dm.ct);
	return ut_summary();
}
