// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "link.h"
#include "rule_args.h"
#include "rule_json.h"

static const char *const kind_names[] = {
	[SL_ACTION_DROP] = "drop",
	[SL_ACTION_REDIRECT] = "redirect",
	[SL_ACTION_REWRITE] = "rewrite",
};

int sl_rule_kind_parse(const char *text, uint32_t *action)
{
	for (uint32_t i = SL_ACTION_DROP; i <= SL_ACTION_REWRITE; i++) {
		if (kind_names[i] && !strcmp(text, kind_names[i])) {
			*action = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sl_action_name(uint32_t action)
{
	return action >= SL_ACTION_REDIRECT && action <= SL_ACTION_REWRITE ? kind_names[action]
									     : "drop";
}

int sl_rule_spec_parse(uint32_t action, json_t *args, struct sl_rule_spec *spec,
		       struct sl_err *err)
{
	int rc = sl_rule_spec_from_args(
		args, action == SL_ACTION_REDIRECT || action == SL_ACTION_REWRITE ? SL_HOOK_TC_INGRESS
										    : SL_HOOK_XDP,
		spec, err);

	if (!rc && action == SL_ACTION_REDIRECT)
		rc = sl_redirect_spec_from_args(args, spec, err);
	if (!rc && action == SL_ACTION_REWRITE)
		rc = sl_rewrite_spec_from_args(args, spec, err);
	if (!rc && action != SL_ACTION_REDIRECT && action != SL_ACTION_REWRITE)
		spec->action = SL_ACTION_DROP;
	return rc;
}

static void set_text(json_t *o, const char *name, bool has, const char *text)
{
	if (has)
		json_object_set_new(o, name, json_string(text));
}

static void set_mac(json_t *o, const char *name, bool has, const uint8_t mac[6])
{
	char text[18];

	if (!has)
		return;
	sl_format_mac(mac, text, sizeof(text));
	json_object_set_new(o, name, json_string(text));
}

static void set_prefix(json_t *o, const char *name, bool has, const struct sl_prefix *p)
{
	char text[64];

	if (!has)
		return;
	sl_format_prefix(p, text, sizeof(text));
	json_object_set_new(o, name, json_string(text));
}

static void set_ports(json_t *o, const char *name, bool has, const struct sl_port_range *r)
{
	char text[16];

	if (!has)
		return;
	sl_format_port_range(r, text, sizeof(text));
	json_object_set_new(o, name, json_string(text));
}

static void set_match(json_t *o, const struct sl_match *m)
{
	char text[16];
	const char *name;

	set_prefix(o, "src", m->has_src, &m->src);
	set_prefix(o, "dst", m->has_dst, &m->dst);
	if (m->has_proto) {
		name = sl_proto_name(m->proto);
		snprintf(text, sizeof(text), "%u", m->proto);
		json_object_set_new(o, "proto", json_string(name ? name : text));
	}
	set_ports(o, "sport", m->has_sport, &m->sport);
	set_ports(o, "dport", m->has_dport, &m->dport);
	if (m->has_ether_type) {
		name = sl_ether_type_name(m->ether_type);
		snprintf(text, sizeof(text), "0x%04x", m->ether_type);
		json_object_set_new(o, "ether-type", json_string(name ? name : text));
	}
}

/* target: "to" in add-redirect's words, "redirect" in add-rewrite's. */
static void set_redirect(json_t *o, const struct sl_redirect_spec *r, const char *target)
{
	set_text(o, target, r->to[0], r->to);
	json_object_set_new(o, "mode", json_string(sl_redirect_mode_name(r->mode)));
	set_mac(o, "dst-mac", r->has_dst_mac, r->dst_mac);
	set_mac(o, "src-mac", r->has_src_mac, r->src_mac);
}

json_t *sl_spec_to_args(const struct sl_rule_spec *spec)
{
	const struct sl_rewrite_spec *rw = &spec->rewrite;
	json_t *o = json_object();
	char text[16];

	if (!o)
		return NULL;
	json_object_set_new(o, "kind", json_string(sl_action_name(spec->action)));
	json_object_set_new(o, "iface", json_string(spec->ifname));
	set_text(o, "netns", spec->netns && spec->netns[0], spec->netns);
	json_object_set_new(o, "hook", json_string(sl_hook_name(spec->kind)));
	set_text(o, "name", spec->name && spec->name[0], spec->name);
	set_match(o, &spec->match);
	if (spec->action == SL_ACTION_REDIRECT)
		set_redirect(o, &spec->redirect, "to");
	if (spec->action == SL_ACTION_REWRITE) {
		set_prefix(o, "to-src", rw->has_src, &rw->to_src);
		set_ports(o, "to-sport", rw->has_sport, &rw->to_sport);
		set_prefix(o, "to-dst", rw->has_dst, &rw->to_dst);
		snprintf(text, sizeof(text), "%u", rw->to_dport);
		set_text(o, "to-dport", rw->has_dport, text);
		if (spec->redirect.mode)
			set_redirect(o, &spec->redirect, "redirect");
	}
	if (spec->action == SL_ACTION_REDIRECT || spec->action == SL_ACTION_REWRITE)
		json_object_set_new(o, "priority", json_integer(spec->priority));
	return o;
}

char *sl_spec_canonical(const struct sl_rule_spec *spec)
{
	json_t *args = sl_spec_to_args(spec);
	char *text = args ? json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(args);
	return text;
}

json_t *sl_rule_to_args(const struct sl_rule *r)
{
	struct sl_rule_spec spec;
	json_t *args, *o;

	sl_rule_spec_of(r, &spec);
	args = sl_spec_to_args(&spec);
	o = json_pack("{s:I}", "id", (json_int_t)r->id);
	if (!args || !o) {
		json_decref(args);
		json_decref(o);
		return NULL;
	}
	json_object_update(o, args);
	json_decref(args);
	return o;
}
