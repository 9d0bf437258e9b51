// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "link.h"
#include "rule_json.h"

/* Parses one optional text argument with parse(); *has tells whether it was given. */
#define PARSE_FIELD(args, name, has, parse, target, err)                          \
	({                                                                         \
		char _buf[128];                                                    \
		int _rc = args_text(args, name, _buf, sizeof(_buf), has, err);     \
		if (!_rc && *(has)) {                                              \
			_rc = parse(_buf, target, err);                            \
			if (_rc)                                                   \
				prefix_arg_name(err, name);                        \
		}                                                                  \
		_rc;                                                               \
	})

/* Says which argument a parser's message is about. */
static void prefix_arg_name(struct sl_err *err, const char *name)
{
	char msg[SL_ERR_MSG_MAX + 32];

	snprintf(msg, sizeof(msg), "%.16s: %s", name, err->msg);
	memcpy(err->msg, msg, SL_ERR_MSG_MAX - 1);
	err->msg[SL_ERR_MSG_MAX - 1] = '\0';
	sl_utf8_trim(err->msg);
}

int sl_rule_spec_from_args(json_t *args, enum sl_hook_kind default_hook,
			   struct sl_rule_spec *spec, struct sl_err *err)
{
	struct sl_match *m = &spec->match;
	const char *hook;

	memset(spec, 0, sizeof(*spec));
	if (args_string(args, "iface", true, &spec->ifname, err) ||
	    args_string(args, "netns", false, &spec->netns, err) ||
	    args_string(args, "name", false, &spec->name, err) ||
	    args_string(args, "hook", false, &hook, err))
		return -EINVAL;
	if (!spec->ifname[0] || strlen(spec->ifname) >= 16)
		return sl_err_set(err, EINVAL, "iface: '%s' is not a valid interface name",
				  spec->ifname);
	if (spec->netns && strlen(spec->netns) >= SL_NETNS_SPEC_MAX)
		return sl_err_set(err, EINVAL, "netns: longer than %d bytes", SL_NETNS_SPEC_MAX - 1);
	spec->kind = default_hook;
	if (hook && sl_hook_parse(hook, &spec->kind))
		return sl_err_set(err, EINVAL, "hook: '%s' is not xdp, tc-ingress or tc-egress", hook);

	if (PARSE_FIELD(args, "src", &m->has_src, sl_parse_prefix, &m->src, err) ||
	    PARSE_FIELD(args, "dst", &m->has_dst, sl_parse_prefix, &m->dst, err) ||
	    PARSE_FIELD(args, "proto", &m->has_proto, sl_parse_proto, &m->proto, err) ||
	    PARSE_FIELD(args, "sport", &m->has_sport, sl_parse_port_range, &m->sport, err) ||
	    PARSE_FIELD(args, "dport", &m->has_dport, sl_parse_port_range, &m->dport, err) ||
	    PARSE_FIELD(args, "ether-type", &m->has_ether_type, sl_parse_ether_type,
			&m->ether_type, err))
		return -EINVAL;
	return sl_match_validate(m, err);
}

static int parse_mode(const char *text, uint8_t *mode, struct sl_err *err)
{
	return sl_redirect_mode_parse(text, mode, err);
}

/* The redirect of add-redirect (target "to") or add-rewrite ("redirect", optional). */
static int redirect_from_args(json_t *args, const char *target_name, bool required,
			      struct sl_rule_spec *spec, struct sl_err *err)
{
	struct sl_redirect_spec *r = &spec->redirect;
	bool has_mode = false, has_priority = false;
	uint64_t priority = SL_DEFAULT_PRIORITY;
	const char *to;

	if (args_string(args, target_name, false, &to, err) ||
	    args_uint(args, "priority", false, UINT16_MAX, &priority, &has_priority, err) ||
	    PARSE_FIELD(args, "mode", &has_mode, parse_mode, &r->mode, err) ||
	    PARSE_FIELD(args, "dst-mac", &r->has_dst_mac, sl_parse_mac, r->dst_mac, err) ||
	    PARSE_FIELD(args, "src-mac", &r->has_src_mac, sl_parse_mac, r->src_mac, err))
		return -EINVAL;
	spec->priority = (uint16_t)priority;
	if (!required && !to && !has_mode) {
		if (r->has_dst_mac || r->has_src_mac)
			return sl_err_set(err, EINVAL, "dst-mac and src-mac go with a %s", target_name);
		return 0;
	}
	if (!has_mode)
		return sl_err_set(err, EINVAL,
				  "mode: required (egress, ingress, neigh, peer or route)");
	if (to) {
		if (!to[0] || strlen(to) >= sizeof(r->to))
			return sl_err_set(err, EINVAL, "%s: '%s' is not a valid interface name",
					  target_name, to);
		snprintf(r->to, sizeof(r->to), "%s", to);
	} else if (r->mode != SL_REDIR_ROUTE || !required) {
		return sl_err_set(err, EINVAL, "%s: required for mode %s%s", target_name,
				  sl_redirect_mode_name(r->mode),
				  required ? " (only route can do without)" : "");
	}
	return 0;
}

int sl_redirect_spec_from_args(json_t *args, struct sl_rule_spec *spec, struct sl_err *err)
{
	spec->action = SL_ACTION_REDIRECT;
	return redirect_from_args(args, "to", true, spec, err);
}

/* A single address: a prefix of full length. */
static int parse_addr(const char *text, struct sl_prefix *out, struct sl_err *err)
{
	int rc = sl_parse_prefix(text, out, err);

	if (rc)
		return rc;
	if (out->plen != (out->family == 4 ? 32 : 128))
		return sl_err_set(err, EINVAL, "'%s' is a prefix; give one address", text);
	return 0;
}

static int parse_one_port(const char *text, uint16_t *out, struct sl_err *err)
{
	struct sl_port_range r;
	int rc = sl_parse_port_range(text, &r, err);

	if (rc)
		return rc;
	if (r.lo != r.hi)
		return sl_err_set(err, EINVAL, "'%s' is a range; give one port", text);
	*out = r.lo;
	return 0;
}

int sl_rewrite_spec_from_args(json_t *args, struct sl_rule_spec *spec, struct sl_err *err)
{
	struct sl_rewrite_spec *rw = &spec->rewrite;

	spec->action = SL_ACTION_REWRITE;
	if (PARSE_FIELD(args, "to-src", &rw->has_src, parse_addr, &rw->to_src, err) ||
	    PARSE_FIELD(args, "to-dst", &rw->has_dst, parse_addr, &rw->to_dst, err) ||
	    PARSE_FIELD(args, "to-sport", &rw->has_sport, sl_parse_port_range, &rw->to_sport, err) ||
	    PARSE_FIELD(args, "to-dport", &rw->has_dport, parse_one_port, &rw->to_dport, err))
		return -EINVAL;
	return redirect_from_args(args, "redirect", false, spec, err);
}

static json_t *str_or_null(bool has, const char *text)
{
	return has ? json_string(text) : json_null();
}

static json_t *mac_or_null(bool has, const uint8_t mac[6])
{
	char text[18];

	if (!has)
		return json_null();
	sl_format_mac(mac, text, sizeof(text));
	return json_string(text);
}

/* The redirect members of a redirect rule's list item. */
/* target_name: "to" in add-redirect's words, "redirect" in add-rewrite's. */
static json_t *redirect_to_json(const struct sl_rule *r, const struct sl_dp_counters *c,
				const char *target_name)
{
	const struct sl_redirect_spec *s = &r->redirect;
	const struct sl_redirect *d = &r->resolved;

	return json_pack("{s:o, s:s, s:i, s:o, s:o, s:o, s:o, s:I, s:I}",
			 target_name, str_or_null(s->to[0], s->to),
			 "mode", sl_redirect_mode_name(s->mode),
			 "priority", (int)r->priority,
			 "dst-mac", mac_or_null(s->has_dst_mac, s->dst_mac),
			 "src-mac", mac_or_null(s->has_src_mac, s->src_mac),
			 "set_dst_mac", mac_or_null(d->flags & SL_REDIR_SET_DMAC, d->dmac),
			 "set_src_mac", mac_or_null(d->flags & SL_REDIR_SET_SMAC, d->smac),
			 "fallbacks", (json_int_t)c->fallbacks,
			 "neigh_misses", (json_int_t)c->neigh_misses);
}

const char *sl_rule_kind_name(const struct sl_rule *r)
{
	switch (r->action) {
	case SL_ACTION_REDIRECT:
		return "redirect";
	case SL_ACTION_REWRITE:
		return "rewrite";
	}
	return "drop";
}

/* The translation members of a rewrite rule's list item. */
static json_t *rewrite_to_json(const struct sl_rule *r, const struct sl_dp_counters *c)
{
	const struct sl_rewrite_spec *rw = &r->rewrite;
	char src[64] = "", dst[64] = "", sport[16] = "", dport[8] = "";
	json_t *item;

	if (rw->has_src)
		sl_format_prefix(&rw->to_src, src, sizeof(src));
	if (rw->has_dst)
		sl_format_prefix(&rw->to_dst, dst, sizeof(dst));
	if (rw->has_sport)
		sl_format_port_range(&rw->to_sport, sport, sizeof(sport));
	if (rw->has_dport)
		snprintf(dport, sizeof(dport), "%u", rw->to_dport);
	item = json_pack("{s:o, s:o, s:o, s:o, s:i, s:I, s:o}",
			 "to-src", str_or_null(rw->has_src, src),
			 "to-sport", str_or_null(rw->has_sport, sport),
			 "to-dst", str_or_null(rw->has_dst, dst),
			 "to-dport", str_or_null(rw->has_dport, dport),
			 "priority", (int)r->priority,
			 "nat_failures", (json_int_t)c->nat_failures,
			 "replies", r->reply_attach
				 ? json_pack("{s:s, s:s}", "iface", r->reply_attach->ifname, "hook",
					     sl_hook_name(r->reply_attach->kind))
				 : json_null());
	if (item && r->redirect.mode)
		json_object_update_new(item, redirect_to_json(r, c, "redirect"));
	else if (item)
		json_object_set_new(item, "redirect", json_null());
	return item;
}

json_t *sl_rule_to_json(const struct sl_rule *r)
{
	const struct sl_match *m = &r->match;
	char src[64] = "", dst[64] = "", sport[16] = "", dport[16] = "", proto[8] = "",
	     etype[16] = "";
	struct sl_dp_counters c;
	const char *name;
	json_t *item;

	if (m->has_src)
		sl_format_prefix(&m->src, src, sizeof(src));
	if (m->has_dst)
		sl_format_prefix(&m->dst, dst, sizeof(dst));
	if (m->has_sport)
		sl_format_port_range(&m->sport, sport, sizeof(sport));
	if (m->has_dport)
		sl_format_port_range(&m->dport, dport, sizeof(dport));
	if (m->has_proto) {
		name = sl_proto_name(m->proto);
		if (name)
			snprintf(proto, sizeof(proto), "%s", name);
		else
			snprintf(proto, sizeof(proto), "%u", m->proto);
	}
	if (m->has_ether_type) {
		name = sl_ether_type_name(m->ether_type);
		if (name)
			snprintf(etype, sizeof(etype), "%s", name);
		else
			snprintf(etype, sizeof(etype), "0x%04x", m->ether_type);
	}
	if (!r->installed || sl_dp_rule_stats(r->attach->dp, r->slot, &c))
		memset(&c, 0, sizeof(c));

	item = json_pack("{s:I, s:s, s:o, s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I}",
			 "id", (json_int_t)r->id,
			 "kind", sl_rule_kind_name(r),
			 "name", str_or_null(r->name[0], r->name),
			 "iface", r->attach->ifname,
			 "netns", str_or_null(r->attach->netns[0], r->attach->netns),
			 "hook", sl_hook_name(r->attach->kind),
			 "src", str_or_null(m->has_src, src), "dst", str_or_null(m->has_dst, dst),
			 "proto", str_or_null(m->has_proto, proto),
			 "sport", str_or_null(m->has_sport, sport),
			 "dport", str_or_null(m->has_dport, dport),
			 "ether-type", str_or_null(m->has_ether_type, etype),
			 "packets", (json_int_t)c.packets, "bytes", (json_int_t)c.bytes);
	if (item) {
		json_object_set_new(item, "attached", json_boolean(r->installed));
		json_object_set_new(item, "detached_why",
				    r->installed ? json_null()
						 : json_string(r->attach->dp ? "not installed (see the daemon log)"
									     : r->attach->why));
	}
	if (item && r->action == SL_ACTION_REDIRECT)
		json_object_update_new(item, redirect_to_json(r, &c, "to"));
	if (item && r->action == SL_ACTION_REWRITE)
		json_object_update_new(item, rewrite_to_json(r, &c));
	return item;
}

