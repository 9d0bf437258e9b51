// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "conntrack_json.h"
#include "match.h"

static json_t *addr_json(uint8_t family, const __be32 *addr)
{
	char text[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == SL_FAMILY_IPV4 ? AF_INET : AF_INET6, addr, text, sizeof(text)))
		return json_null();
	return json_string(text);
}

static json_t *endpoint_pair_json(uint8_t family, const __be32 *src, __be16 sport,
				  const __be32 *dst, __be16 dport)
{
	return json_pack("{s:o, s:i, s:o, s:i}", "src", addr_json(family, src), "sport",
			 (int)ntohs(sport), "dst", addr_json(family, dst), "dport",
			 (int)ntohs(dport));
}

static const char *proto_name(uint8_t proto)
{
	const char *name = sl_proto_name(proto);

	return name ? name : "other";
}

static int add_flow(const struct sl_ct_flow *f, void *arg)
{
	json_t *flows = arg;
	const struct sl_ct_key *k = &f->key;
	const struct sl_ct_tuple *t = &f->fwd.rewrite;
	json_t *item;

	item = json_pack("{s:i, s:s, s:o, s:o, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "family",
			 (int)k->family, "proto", proto_name(k->proto), "original",
			 endpoint_pair_json(k->family, k->src, k->sport, k->dst, k->dport),
			 "translated",
			 endpoint_pair_json(k->family, t->src, t->sport, t->dst, t->dport), "state",
			 sl_ct_state_name(f->fwd.state), "rule", (json_int_t)f->fwd.rule_id,
			 "expires", (json_int_t)((f->expires_ns + 999999999ull) / 1000000000ull),
			 "packets", (json_int_t)f->fwd.packets, "bytes", (json_int_t)f->fwd.bytes,
			 "reply_packets", (json_int_t)(f->has_reply ? f->reply.packets : 0),
			 "reply_bytes", (json_int_t)(f->has_reply ? f->reply.bytes : 0));
	if (!item)
		return -ENOMEM;
	json_object_set_new(item, "zone", json_integer(k->zone));
	return json_array_append_new(flows, item) ? -ENOMEM : 0;
}

json_t *sl_ct_flows_json(struct sl_dp_ct *ct, struct sl_err *err)
{
	json_t *flows = json_array();
	int rc;

	if (!flows) {
		sl_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	rc = sl_dp_ct_walk(ct, add_flow, flows);
	if (rc) {
		json_decref(flows);
		sl_err_set(err, -rc, "cannot read conntrack: %s", strerror(-rc));
		return NULL;
	}
	return json_pack("{s:I, s:I, s:o}", "count", (json_int_t)json_array_size(flows),
			 "capacity", (json_int_t)sl_dp_ct_capacity(ct), "flows", flows);
}
