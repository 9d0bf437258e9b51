// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target for the wire protocol and the rule parsers, as sluiced
 * runs them on a request line, without a daemon, a socket or the kernel:
 *
 *   - the input is cut into lines the way the server does (newline, an
 *     optional CR before it, blank lines skipped);
 *   - each line goes through sl_request_parse(), the parsing step of
 *     sl_protocol_handle(): JSON, the envelope (id, cmd, args; unknown,
 *     duplicate and mistyped members), the command's name, and args against
 *     the command's argument names; its args are also checked against every
 *     other command's names with args_check_known();
 *   - for add-drop, add-redirect and add-rewrite, the arguments go through
 *     the same parsers as in commands.c (sl_rule_spec_from_args(),
 *     sl_redirect_spec_from_args(), sl_rewrite_spec_from_args()) and, for
 *     rewrites, sl_rewrite_prepare(), as sl_ruleset_add() calls it.
 *
 * Command handlers are never run: nothing here attaches BPF, enters a
 * namespace or opens a socket. Besides crashes and sanitizer reports, it
 * aborts when an invariant of the parsers does not hold (see fuzz_fail()).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "args.h"
#include "commands.h"
#include "link.h"
#include "protocol.h"
#include "rule_json.h"
#include "ruleset.h"
#include "ruleset_doc.h"

static void fuzz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_protocol: invariant broken: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define CHECK(cond, ...)                         \
	do {                                     \
		if (!(cond))                     \
			fuzz_fail(__VA_ARGS__);  \
	} while (0)

/*
 * An error reply must be what the daemon means to send: JSON with the id,
 * ok false and the code, never the EIO fallback it sends when its own reply
 * cannot be encoded (a message cut inside a UTF-8 sequence, say).
 */
static void check_error_reply(const struct sl_request *rq, const struct sl_err *err)
{
	char *text = sl_protocol_request_error(rq, err);
	json_t *reply, *error, *id;
	json_error_t jerr;
	const char *code;

	CHECK(text, "no error reply");
	reply = json_loads(text, 0, &jerr);
	CHECK(json_is_object(reply), "error reply is not a JSON object: %s", text);
	error = json_object_get(reply, "error");
	code = json_string_value(json_object_get(error, "code"));
	CHECK(json_is_false(json_object_get(reply, "ok")), "error reply without ok false: %s",
	      text);
	CHECK(code && !strcmp(code, sl_errno_name(err->code)),
	      "error reply with code %s, not %s (the fallback?): %s", code ? code : "(none)",
	      sl_errno_name(err->code), text);
	CHECK(json_string_length(json_object_get(error, "message")) > 0,
	      "error reply without a message: %s", text);
	id = json_object_get(reply, "id");
	CHECK(id, "error reply without id: %s", text);
	if (rq && rq->id)
		CHECK(json_equal(id, rq->id), "error reply does not echo the id: %s", text);
	else
		CHECK(json_is_null(id), "error reply to a request without id has one: %s", text);
	json_decref(reply);
	free(text);
}

/* A refusal: rc is -code, the code is one the caller may return, with a message. */
static void check_refusal(int rc, const struct sl_request *rq, const struct sl_err *err,
			  const char *what)
{
	CHECK(rc < 0 && rc == -err->code, "%s: returned %d with error code %d", what, rc,
	      err->code);
	CHECK(err->code == EINVAL || (!strcmp(what, "request") &&
				      (err->code == EPROTO || err->code == ENOSYS)),
	      "%s: refused with %s (%s)", what, sl_errno_name(err->code), err->msg);
	CHECK(err->msg[0], "%s: refused without a message", what);
	CHECK(strlen(err->msg) < SL_ERR_MSG_MAX, "%s: message not terminated", what);
	check_error_reply(rq, err);
}

static void prefix_round_trip(const struct sl_prefix *p, const char *what)
{
	struct sl_err err = { 0 };
	struct sl_prefix again;
	char text[64];

	CHECK(p->family == 4 || p->family == 6, "%s: family %u", what, p->family);
	CHECK(p->plen <= (p->family == 4 ? 32 : 128), "%s: prefix length %u", what, p->plen);
	sl_format_prefix(p, text, sizeof(text));
	CHECK(!sl_parse_prefix(text, &again, &err), "%s: '%s' does not parse back: %s", what,
	      text, err.msg);
	CHECK(!memcmp(p, &again, sizeof(again)), "%s: '%s' parses back differently", what, text);
}

static void ports_round_trip(const struct sl_port_range *r, const char *what)
{
	struct sl_err err = { 0 };
	struct sl_port_range again;
	char text[16];

	CHECK(r->lo <= r->hi, "%s: range %u-%u is reversed", what, r->lo, r->hi);
	sl_format_port_range(r, text, sizeof(text));
	CHECK(!sl_parse_port_range(text, &again, &err), "%s: '%s' does not parse back: %s",
	      what, text, err.msg);
	CHECK(again.lo == r->lo && again.hi == r->hi, "%s: '%s' parses back differently", what,
	      text);
}

static void mac_round_trip(const uint8_t mac[6], const char *what)
{
	struct sl_err err = { 0 };
	uint8_t again[6];
	char text[18];

	sl_format_mac(mac, text, sizeof(text));
	CHECK(!sl_parse_mac(text, again, &err), "%s: '%s' does not parse back", what, text);
	CHECK(!memcmp(mac, again, 6), "%s: '%s' parses back differently", what, text);
}

/* What sl_rule_spec_from_args() accepted is a rule the rest of the daemon can take. */
static void check_match_spec(const struct sl_rule_spec *spec)
{
	const struct sl_match *m = &spec->match;
	struct sl_err err = { 0 };

	CHECK(spec->ifname && spec->ifname[0] && strlen(spec->ifname) < 16, "iface accepted: '%s'",
	      spec->ifname ? spec->ifname : "(null)");
	CHECK(!spec->netns || strlen(spec->netns) < SL_NETNS_SPEC_MAX, "netns too long accepted");
	CHECK(spec->kind == SL_HOOK_XDP || spec->kind == SL_HOOK_TC_INGRESS ||
		      spec->kind == SL_HOOK_TC_EGRESS,
	      "hook %d", (int)spec->kind);
	CHECK(!sl_match_validate(m, &err), "accepted match does not validate: %s", err.msg);
	if (m->has_src)
		prefix_round_trip(&m->src, "src");
	if (m->has_dst)
		prefix_round_trip(&m->dst, "dst");
	if (m->has_sport)
		ports_round_trip(&m->sport, "sport");
	if (m->has_dport)
		ports_round_trip(&m->dport, "dport");
}

static void check_redirect_spec(const struct sl_rule_spec *spec, bool required)
{
	const struct sl_redirect_spec *r = &spec->redirect;

	CHECK(strnlen(r->to, sizeof(r->to)) < sizeof(r->to), "redirect target not terminated");
	if (!required && !r->mode) {
		CHECK(!r->to[0] && !r->has_dst_mac && !r->has_src_mac,
		      "redirect parts without a mode accepted");
		return;
	}
	CHECK(r->mode >= SL_REDIR_EGRESS && r->mode <= SL_REDIR_ROUTE, "mode %u", r->mode);
	CHECK(r->to[0] || r->mode == SL_REDIR_ROUTE, "mode %s without a target accepted",
	      sl_redirect_mode_name(r->mode));
	if (r->has_dst_mac)
		mac_round_trip(r->dst_mac, "dst-mac");
	if (r->has_src_mac)
		mac_round_trip(r->src_mac, "src-mac");
}

/* sl_rewrite_prepare() on an accepted add-rewrite, then what sl_ruleset_add() checks next. */
static void fuzz_rewrite_prepare(struct sl_rule_spec *spec)
{
	const struct sl_rewrite_spec *rw = &spec->rewrite;
	struct sl_match asked = spec->match;
	struct sl_err err = { 0 };
	struct sl_nat_rule nat;
	int rc;

	if (rw->has_src)
		prefix_round_trip(&rw->to_src, "to-src");
	if (rw->has_dst)
		prefix_round_trip(&rw->to_dst, "to-dst");
	if (rw->has_sport)
		ports_round_trip(&rw->to_sport, "to-sport");

	rc = sl_rewrite_prepare(spec, 42, &nat, &err);
	if (rc) {
		check_refusal(rc, NULL, &err, "sl_rewrite_prepare");
		return;
	}
	CHECK(spec->kind != SL_HOOK_XDP, "rewrite on xdp accepted");
	CHECK(nat.family == 4 || nat.family == 6, "translation family %u", nat.family);
	CHECK(nat.rule_id == 42, "rule id not kept");
	CHECK(nat.flags && !(nat.flags & ~(SL_NAT_SRC | SL_NAT_DST | SL_NAT_SPORT | SL_NAT_DPORT)),
	      "translation flags 0x%x", nat.flags);
	CHECK(!(nat.flags & SL_NAT_SPORT) || nat.sport_lo <= nat.sport_hi,
	      "source port range reversed");
	/* The match may be narrowed to the family, never changed otherwise. */
	CHECK(!asked.has_ether_type || spec->match.ether_type == asked.ether_type,
	      "ether-type 0x%04x became 0x%04x", asked.ether_type, spec->match.ether_type);
	CHECK(sl_match_family(&spec->match) == nat.family,
	      "match family %d, translation family %u", sl_match_family(&spec->match),
	      nat.family);
	CHECK(!sl_match_validate(&spec->match, &err), "prepared match does not validate: %s",
	      err.msg);
	if (spec->match.has_proto)
		CHECK(spec->match.proto == 6 || spec->match.proto == 17 ||
			      spec->match.proto == (nat.family == 4 ? 1 : 58),
		      "proto %u translated for IPv%u", spec->match.proto, nat.family);
}

/* add-drop, add-redirect, add-rewrite: commands.c's add_rule() up to sl_ruleset_add(). */
static void fuzz_add(const char *cmd, json_t *args)
{
	uint32_t action = !strcmp(cmd, "add-drop")	? SL_ACTION_DROP
			  : !strcmp(cmd, "add-redirect") ? SL_ACTION_REDIRECT
							 : SL_ACTION_REWRITE;
	struct sl_err err = { 0 };
	struct sl_rule_spec spec;
	int rc;

	rc = sl_rule_spec_from_args(args,
				    action == SL_ACTION_DROP ? SL_HOOK_XDP : SL_HOOK_TC_INGRESS,
				    &spec, &err);
	if (rc) {
		check_refusal(rc, NULL, &err, "sl_rule_spec_from_args");
		return;
	}
	check_match_spec(&spec);
	if (action == SL_ACTION_REDIRECT)
		rc = sl_redirect_spec_from_args(args, &spec, &err);
	if (action == SL_ACTION_REWRITE)
		rc = sl_rewrite_spec_from_args(args, &spec, &err);
	if (rc) {
		check_refusal(rc, NULL, &err, cmd);
		return;
	}
	CHECK(spec.action == action || (action == SL_ACTION_DROP && !spec.action),
	      "%s: action %u", cmd, spec.action);
	if (action == SL_ACTION_DROP)
		return;
	check_redirect_spec(&spec, action == SL_ACTION_REDIRECT);
	if (action == SL_ACTION_REWRITE)
		fuzz_rewrite_prepare(&spec);
}

/* apply's document, and the same rules as a state file: validated, never installed. */
static void fuzz_document(json_t *args)
{
	json_t *rules = json_object_get(args, "rules"), *text = json_object_get(args, "document");
	json_t *parsed = NULL, *docs[2];

	/* A document sent as text is parsed as the daemon parses a last part. */
	if (!rules && json_is_string(text)) {
		parsed = json_loadb(json_string_value(text), json_string_length(text),
				    JSON_REJECT_DUPLICATES, NULL);
		rules = json_object_get(parsed, "rules");
	}
	if (!rules) {
		json_decref(parsed);
		return;
	}
	docs[0] = json_pack("{s:O}", "rules", rules);
	docs[1] = json_pack("{s:s, s:i, s:O}", "format", SL_STATE_FORMAT, "version",
			    SL_STATE_VERSION, "rules", rules);
	for (int i = 0; i < 2; i++) {
		struct sl_err err = { 0 };
		struct sl_doc doc;
		int rc;

		if (!docs[i])
			continue;
		rc = sl_doc_parse(docs[i], i == 1, &doc, &err);
		if (rc) {
			check_refusal(rc, NULL, &err, "sl_doc_parse");
		} else {
			for (size_t r = 0; r < doc.n; r++)
				CHECK(doc.rules[r].canon && doc.rules[r].spec.ifname,
				      "document rule %zu without canonical form", r);
			sl_doc_free(&doc);
		}
		json_decref(docs[i]);
	}
	json_decref(parsed);
}

static void fuzz_line(const char *line, size_t len)
{
	struct sl_err err = { 0 };
	struct sl_request rq;
	int rc;

	rc = sl_request_parse(line, len, &rq, &err);
	if (rc) {
		check_refusal(rc, &rq, &err, "request");
		sl_request_release(&rq);
		return;
	}
	CHECK(rq.req && rq.cmd && json_is_object(rq.args), "request parsed without cmd or args");
	CHECK(sl_command_find(rq.cmd->name) == rq.cmd, "command lookup is not stable");

	/* Every command's argument names, as the daemon would check them. */
	for (const struct sl_command *c = sl_command_table(); c->name; c++) {
		struct sl_err e = { 0 };

		rc = args_check_known(rq.args, c->args, c->name, &e);
		if (c == rq.cmd)
			CHECK(!rc, "args accepted, then refused for %s: %s", c->name, e.msg);
		else if (rc)
			check_refusal(rc, NULL, &e, "args_check_known");
		else if (json_object_size(rq.args))
			CHECK(c->args[0], "%s takes no arguments but accepted some", c->name);
	}
	if (!strcmp(rq.cmd->name, "add-drop") || !strcmp(rq.cmd->name, "add-redirect") ||
	    !strcmp(rq.cmd->name, "add-rewrite"))
		fuzz_add(rq.cmd->name, rq.args);
	if (!strcmp(rq.cmd->name, "apply"))
		fuzz_document(rq.args);
	sl_request_release(&rq);
}

/*
 * Structure-aware mutations. Byte-level mutations of JSON rarely survive
 * the JSON parser with a new value in the right place, so most of the time
 * a request that parses is changed as JSON instead: a member of args set
 * to a value from the pool, or to a mutated copy of its text, or removed,
 * or cmd changed; the rest of the time libFuzzer's own mutations (and its
 * dictionary, protocol.dict) apply, which keeps the JSON syntax fuzzed.
 */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static const char *const pool_text[] = {
	"", "eth0", "veth1", "lo", "a23456789012345", "a234567890123456", "blue", "pid:1",
	"/proc/1/ns/net", "xdp", "tc-ingress", "tc-egress", "10.0.0.0/8", "10.0.0.1",
	"10.0.0.1/32", "0.0.0.0/0", "10.0.0.1/33", "fd00::/64", "fd00::1", "::/0", "::",
	"::ffff:10.0.0.1", "2001:db8::/32", "tcp", "udp", "icmp", "icmpv6", "sctp", "udplite",
	"TCP", "0", "1", "6", "17", "58", "255", "256", "arp", "ipv4", "ipv6", "0x0800",
	"0x86dd", "0x0806", "0x0600", "0x05ff", "0xffff", "0x", "80", "0-65535", "1000-2000",
	"65535", "65536", "90-80", "1-", "-1", "egress", "ingress", "neigh", "peer", "route",
	"aa:bb:cc:dd:ee:ff", "02-00-00-00-00-01", "aa:bb:cc:dd:ee", "\xc3\xa9",
	"\xe2\x82\xac\xe2\x82\xac", "\xf0\x9f\x98\x80",
};
static char long_text[2][320];
static const json_int_t pool_int[] = { 0, 1, 6, 17, 53, 80, 255, 256, 65535, 65536, -1,
				       INT32_MAX, INT64_MAX };
/* Argument names of every command, and two no command has. */
static const char *arg_names[64];
static size_t n_arg_names;

static void init_pools(void)
{
	static const char *const extra[] = { "bogus", "ID" };

	for (size_t i = 0; i + 2 < sizeof(long_text[0]); i += 2)
		memcpy(long_text[0] + i, "\xc3\xa9", 2);
	for (size_t i = 0; i + 3 < sizeof(long_text[1]); i += 3)
		memcpy(long_text[1] + i, "\xe2\x82\xac", 3);

	for (const struct sl_command *c = sl_command_table(); c->name; c++)
		for (const char *const *a = c->args; *a; a++) {
			size_t i;

			for (i = 0; i < n_arg_names && strcmp(arg_names[i], *a); i++)
				;
			if (i == n_arg_names && n_arg_names < 62)
				arg_names[n_arg_names++] = *a;
		}
	arg_names[n_arg_names++] = extra[0];
	arg_names[n_arg_names++] = extra[1];
}

static uint32_t rng_next(uint32_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 17;
	*state ^= *state << 5;
	return *state;
}

static json_t *pool_value(uint32_t *rng)
{
	uint32_t r = rng_next(rng) % 16;
	size_t n_text = sizeof(pool_text) / sizeof(pool_text[0]);
	size_t n_int = sizeof(pool_int) / sizeof(pool_int[0]);

	if (r < 10) {
		uint32_t i = rng_next(rng) % (n_text + 2);

		/* Long UTF-8 text, for messages cut to SL_ERR_MSG_MAX inside a character. */
		return json_string(i < n_text ? pool_text[i] : long_text[i - n_text]);
	}
	if (r < 14)
		return json_integer(pool_int[rng_next(rng) % n_int]);
	if (r == 14)
		return json_null();
	return rng_next(rng) % 2 ? json_array() : json_true();
}

/* A member's text, mutated by libFuzzer; NULL when the result is not UTF-8. */
static json_t *mutated_text(json_t *v)
{
	uint8_t buf[400];
	size_t len = 0;

	if (json_is_string(v)) {
		len = json_string_length(v);
		if (len > sizeof(buf) / 2)
			len = sizeof(buf) / 2;
		memcpy(buf, json_string_value(v), len);
	} else if (json_is_integer(v)) {
		len = (size_t)snprintf((char *)buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
				       json_integer_value(v));
	}
	if (!len)
		buf[len++] = '0';
	len = LLVMFuzzerMutate(buf, len, sizeof(buf));
	return json_stringn((const char *)buf, len);
}

static int mutate_request(json_t *req, uint32_t *rng)
{
	json_t *args = json_object_get(req, "args"), *value;
	const char *name;

	if (!json_is_object(args)) {
		args = json_object();
		json_object_set_new(req, "args", args);
	}
	switch (rng_next(rng) % 8) {
	case 0: { /* another command */
		size_t n = 0;

		while (sl_command_table()[n].name)
			n++;
		return json_object_set_new(req, "cmd",
					   json_string(sl_command_table()[rng_next(rng) % n].name));
	}
	case 1: { /* drop a member */
		uint32_t skip;

		if (!json_object_size(args))
			return -1;
		skip = rng_next(rng) % json_object_size(args);
		json_object_foreach(args, name, value)
			if (!skip--)
				return json_object_del(args, name);
		return -1;
	}
	case 2:
	case 3: /* a member's text, mutated */
		name = arg_names[rng_next(rng) % n_arg_names];
		value = mutated_text(json_object_get(args, name));
		return value ? json_object_set_new(args, name, value) : -1;
	default: /* a member set from the pool */
		name = arg_names[rng_next(rng) % n_arg_names];
		value = pool_value(rng);
		return value ? json_object_set_new(args, name, value) : -1;
	}
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	uint32_t rng = seed | 1;
	json_t *req;
	char *text;
	size_t len;

	if (rng_next(&rng) % 3 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	req = json_loadb((const char *)data, size, 0, NULL);
	if (!json_is_object(req)) {
		json_decref(req);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	for (uint32_t n = 1 + rng_next(&rng) % 3; n; n--)
		mutate_request(req, &rng);
	text = json_dumps(req, JSON_COMPACT | (rng_next(&rng) % 4 ? 0 : JSON_ENSURE_ASCII));
	json_decref(req);
	len = text ? strlen(text) : 0;
	if (!text || len + 1 > max_size) {
		free(text);
		return LLVMFuzzerMutate(data, size, max_size);
	}
	memcpy(data, text, len);
	data[len++] = '\n';
	free(text);
	return len;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Reproducible member order, so a crash replays the same way. */
	json_object_seed(1);
	init_pools();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	/* Lines as the server cuts them; a last one without newline counts too. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((nl ? nl : end) - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len && len < SL_MAX_LINE)
			fuzz_line(p, len);
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}
