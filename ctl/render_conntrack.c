// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The conntrack command's results for people. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "render.h"
#include "table.h"

#define ENDPOINTS_MAX 112

static bool is_icmp(const char *proto)
{
	return proto && (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6"));
}

/* "10.0.0.2:40000 > 10.9.9.9:80", "[fd00::2]:40000 > [fd00::9]:80", ICMP: "A > B id 7". */
static void format_endpoints(const json_t *pair, const char *proto, char *buf, size_t len)
{
	const char *src = json_string_value(json_object_get(pair, "src"));
	const char *dst = json_string_value(json_object_get(pair, "dst"));
	json_int_t sport = json_integer_value(json_object_get(pair, "sport"));
	json_int_t dport = json_integer_value(json_object_get(pair, "dport"));
	bool v6;

	if (!src || !dst) {
		snprintf(buf, len, "-");
		return;
	}
	if (is_icmp(proto)) {
		/* A request's identifier is its sport, a reply's its dport. */
		snprintf(buf, len, "%s > %s id %" JSON_INTEGER_FORMAT, src, dst, sport ? sport : dport);
		return;
	}
	v6 = strchr(src, ':') != NULL;
	snprintf(buf, len, "%s%s%s:%" JSON_INTEGER_FORMAT " > %s%s%s:%" JSON_INTEGER_FORMAT,
		 v6 ? "[" : "", src, v6 ? "]" : "", sport, v6 ? "[" : "", dst, v6 ? "]" : "", dport);
}

int ctl_render_conntrack(FILE *out, const json_t *args, const json_t *result)
{
	static const char *const headers[] = { "PROTO", "ORIGINAL", "TRANSLATED", "STATE",
					       "RULE", "EXPIRES", "PACKETS", "REPLIES" };
	const json_t *flows = json_object_get(result, "flows"), *flushed, *f;
	char orig[ENDPOINTS_MAX], xlat[ENDPOINTS_MAX], rule[24], expires[24], pk[24], rp[24];
	struct ctl_table t;
	size_t i;
	int ret = 0;

	(void)args;
	flushed = json_object_get(result, "flushed");
	if (json_is_integer(flushed)) {
		fprintf(out, "flushed %" JSON_INTEGER_FORMAT " flow%s\n", json_integer_value(flushed),
			json_integer_value(flushed) == 1 ? "" : "s");
		return 0;
	}
	if (!json_is_array(flows))
		return -EPROTO;
	if (!json_array_size(flows)) {
		fputs("no translated flows\n", out);
		return 0;
	}
	ctl_table_init(&t, headers, 8, 1u << 4 | 1u << 5 | 1u << 6 | 1u << 7);
	json_array_foreach(flows, i, f) {
		const char *proto = json_string_value(json_object_get(f, "proto"));
		const char *cells[8];

		format_endpoints(json_object_get(f, "original"), proto, orig, sizeof(orig));
		format_endpoints(json_object_get(f, "translated"), proto, xlat, sizeof(xlat));
		cells[0] = proto;
		cells[1] = orig;
		cells[2] = xlat;
		cells[3] = json_string_value(json_object_get(f, "state"));
		cells[4] = ctl_json_text(json_object_get(f, "rule"), rule, sizeof(rule));
		snprintf(expires, sizeof(expires), "%ss",
			 ctl_json_text(json_object_get(f, "expires"), pk, sizeof(pk)));
		cells[5] = expires;
		cells[6] = ctl_json_text(json_object_get(f, "packets"), pk, sizeof(pk));
		cells[7] = ctl_json_text(json_object_get(f, "reply_packets"), rp, sizeof(rp));
		ret = ctl_table_add(&t, cells);
		if (ret)
			break;
	}
	if (!ret)
		ctl_table_print(&t, out, "");
	ctl_table_free(&t);
	return ret;
}
