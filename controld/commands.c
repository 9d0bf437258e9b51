// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "args.h"
#include "commands.h"
#include "conntrack_json.h"
#include "inspect.h"
#include "netns.h"
#include "protocol.h"
#include "rule_args.h"
#include "rule_json.h"
#include "ruleset_doc.h"
#include "state.h"

#define SL_INSPECT_MAX 64

static const char *const no_args[] = { NULL };
static const char *const status_args[] = { "iface", "netns", NULL };
static const char *const add_drop_args[] = { "iface", "netns", "hook", "name",
					     SL_MATCH_ARG_NAMES, NULL };
static const char *const add_redirect_args[] = { "iface", "netns", "hook", "name",
						 SL_MATCH_ARG_NAMES, SL_REDIRECT_ARG_NAMES, NULL };
static const char *const add_rewrite_args[] = { "iface", "netns", "hook", "name",
						SL_MATCH_ARG_NAMES, SL_REWRITE_ARG_NAMES, NULL };
static const char *const flush_args[] = { "rule", NULL };
static const char *const list_args[] = { "iface", "netns", "hook", NULL };
static const char *const id_args[] = { "id", NULL };
static const char *const apply_args[] = { "rules", "document", "dry-run", "more", "txn", NULL };

static int cmd_hello(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err);

static json_t *attached_json(const char *ifname, int netns_fd, struct sl_err *err)
{
	struct sl_prog_info progs[SL_INSPECT_MAX];
	json_t *arr;
	int n = sl_dp_inspect(ifname, netns_fd, progs, SL_INSPECT_MAX, err);

	if (n < 0)
		return NULL;
	arr = json_array();
	for (int i = 0; i < n && i < SL_INSPECT_MAX; i++) {
		struct sl_prog_info *p = &progs[i];

		json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:o, s:s, s:b}", "hook",
						     p->hook, "name", p->name, "prog_id",
						     (json_int_t)p->prog_id, "priority",
						     p->priority < 0 ? json_null()
								     : json_integer(p->priority),
						     "mode", p->mode, "sluice", p->sluice));
	}
	return arr;
}

static json_t *attach_json(struct sl_attach *a)
{
	struct sl_err err = { 0 };
	json_t *attached;
	int nsfd = -1;

	/* The namespace may have gone since; the hook is still reported. */
	if (!sl_netns_open(a->netns, &nsfd, &err))
		attached = attached_json(a->ifname, nsfd, &err);
	else
		attached = NULL;
	if (nsfd >= 0)
		close(nsfd);
	if (!a->dp)
		return json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:I, s:I, s:o, s:s}", "iface",
				 a->ifname, "netns",
				 a->netns[0] ? json_string(a->netns) : json_null(), "hook",
				 sl_hook_name(a->kind), "ifindex", json_null(), "prog_id",
				 json_null(), "mode", "", "rules", (json_int_t)a->nrules, "shapes",
				 (json_int_t)0, "attached", attached ? attached : json_array(),
				 "detached", a->why);
	return json_pack("{s:s, s:o, s:s, s:i, s:I, s:s, s:I, s:I, s:o, s:n}", "iface", a->ifname,
			 "netns", a->netns[0] ? json_string(a->netns) : json_null(), "hook",
			 sl_hook_name(a->kind), "ifindex", sl_dp_hook_ifindex(a->dp), "prog_id",
			 (json_int_t)sl_dp_hook_prog_id(a->dp), "mode",
			 sl_dp_hook_xdp_mode(a->dp), "rules", (json_int_t)a->nrules, "shapes",
			 (json_int_t)sl_dp_hook_shape_count(a->dp), "attached",
			 attached ? attached : json_string(err.msg), "detached");
}

static int cmd_status(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	const char *iface, *netns;
	json_t *hooks = json_array();
	size_t n = sl_ruleset_attach_count(d->rules);

	if (args_string(args, "iface", false, &iface, err) ||
	    args_string(args, "netns", false, &netns, err)) {
		json_decref(hooks);
		return -EINVAL;
	}
	if (netns && !iface) {
		json_decref(hooks);
		return sl_err_set(err, EINVAL, "netns needs iface");
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(hooks, attach_json(sl_ruleset_attach_at(d->rules, i)));

	*result = json_pack("{s:s, s:i, s:I, s:I, s:s, s:s, s:b, s:s, s:o}", "version",
			    SLUICE_VERSION, "pid", (int)getpid(), "uptime_s",
			    (json_int_t)(time(NULL) - d->started), "rules",
			    (json_int_t)sl_ruleset_count(d->rules), "socket", d->socket_path,
			    "state_dir", d->state_dir, "state_saved", !d->state_dirty, "bpffs",
			    d->bpffs, "hooks", hooks);
	if (iface) {
		int nsfd, rc = sl_netns_open(netns, &nsfd, err);
		json_t *attached;

		if (rc) {
			json_decref(*result);
			return rc;
		}
		attached = attached_json(iface, nsfd, err);
		if (nsfd >= 0)
			close(nsfd);
		if (!attached) {
			json_decref(*result);
			return -err->code;
		}
		json_object_set_new(*result, "interface",
				    json_pack("{s:s, s:o, s:o}", "iface", iface, "netns",
					      netns ? json_string(netns) : json_null(), "attached",
					      attached));
	}
	return 0;
}

/* Adds the rule the arguments describe; action says which kind of add. */
static int add_rule(struct sl_daemon *d, json_t *args, uint32_t action, json_t **result,
		    struct sl_err *err)
{
	struct sl_rule_spec spec;
	uint64_t id;
	int rc;

	rc = sl_rule_spec_parse(action, args, &spec, err);
	if (!rc)
		rc = sl_ruleset_add(d->rules, &spec, &id, err);
	if (rc)
		return rc;
	sl_state_rule_added(d, sl_ruleset_get(d->rules, id));
	*result = json_pack("{s:I}", "id", (json_int_t)id);
	return 0;
}

static int cmd_add_drop(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	return add_rule(d, args, SL_ACTION_DROP, result, err);
}

static int cmd_add_redirect(struct sl_daemon *d, json_t *args, json_t **result,
			    struct sl_err *err)
{
	return add_rule(d, args, SL_ACTION_REDIRECT, result, err);
}

static int cmd_add_rewrite(struct sl_daemon *d, json_t *args, json_t **result,
			   struct sl_err *err)
{
	return add_rule(d, args, SL_ACTION_REWRITE, result, err);
}

static int cmd_conntrack(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	struct sl_dp_ct *ct = sl_ruleset_conntrack(d->rules);

	(void)args;
	if (!ct)
		return sl_err_set(err, ENOTSUP, "this daemon runs without conntrack");
	*result = sl_ct_flows_json(ct, err);
	return *result ? 0 : -err->code;
}

static int cmd_conntrack_flush(struct sl_daemon *d, json_t *args, json_t **result,
			       struct sl_err *err)
{
	struct sl_dp_ct *ct = sl_ruleset_conntrack(d->rules);
	unsigned int removed = 0;
	uint64_t rule = 0;
	bool has_rule;
	int rc;

	if (args_uint(args, "rule", false, INT64_MAX, &rule, &has_rule, err))
		return -EINVAL;
	if (!ct)
		return sl_err_set(err, ENOTSUP, "this daemon runs without conntrack");
	if (has_rule && !sl_ruleset_get(d->rules, rule))
		return sl_err_set(err, ENOENT, "no rule %llu", (unsigned long long)rule);
	rc = sl_dp_ct_flush(ct, rule, &removed);
	if (rc)
		return sl_err_set(err, -rc, "cannot flush conntrack: %s", strerror(-rc));
	*result = json_pack("{s:I}", "flushed", (json_int_t)removed);
	return 0;
}

static int cmd_list(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	const char *iface, *netns, *hook;
	enum sl_hook_kind kind = SL_HOOK_XDP;
	json_t *rules;

	if (args_string(args, "iface", false, &iface, err) ||
	    args_string(args, "netns", false, &netns, err) ||
	    args_string(args, "hook", false, &hook, err))
		return -EINVAL;
	if (hook && sl_hook_parse(hook, &kind))
		return sl_err_set(err, EINVAL, "hook: '%s' is not xdp, tc-ingress or tc-egress", hook);
	rules = json_array();
	for (size_t i = 0; i < sl_ruleset_count(d->rules); i++) {
		struct sl_rule *r = sl_ruleset_at(d->rules, i);

		if (iface && strcmp(iface, r->attach->ifname))
			continue;
		if (netns && strcmp(netns, r->attach->netns))
			continue;
		if (hook && kind != r->attach->kind)
			continue;
		json_array_append_new(rules, sl_rule_to_json(r));
	}
	*result = json_pack("{s:o}", "rules", rules);
	return 0;
}

static int cmd_del(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	uint64_t id;
	int rc;

	if (args_uint(args, "id", true, INT64_MAX, &id, NULL, err))
		return -EINVAL;
	rc = sl_ruleset_del(d->rules, id, err);
	if (rc)
		return rc;
	sl_state_rule_deleted(d, id);
	*result = json_pack("{s:I}", "id", (json_int_t)id);
	return 0;
}

static json_t *stats_item(struct sl_rule *r)
{
	struct sl_dp_counters c;

	if (!r->installed || sl_dp_rule_stats(r->attach->dp, r->slot, &c))
		memset(&c, 0, sizeof(c));
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)r->id, "kind",
			 sl_rule_kind_name(r), "packets",
			 (json_int_t)c.packets, "bytes", (json_int_t)c.bytes, "fallbacks",
			 (json_int_t)c.fallbacks, "neigh_misses", (json_int_t)c.neigh_misses,
			 "nat_failures", (json_int_t)c.nat_failures);
}

static int cmd_stats(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	json_t *rules;
	uint64_t id;
	bool has_id;

	if (args_uint(args, "id", false, INT64_MAX, &id, &has_id, err))
		return -EINVAL;
	rules = json_array();
	if (has_id) {
		struct sl_rule *r = sl_ruleset_get(d->rules, id);

		if (!r) {
			json_decref(rules);
			return sl_err_set(err, ENOENT, "no rule %llu", (unsigned long long)id);
		}
		json_array_append_new(rules, stats_item(r));
	} else {
		for (size_t i = 0; i < sl_ruleset_count(d->rules); i++)
			json_array_append_new(rules, stats_item(sl_ruleset_at(d->rules, i)));
	}
	*result = json_pack("{s:o}", "rules", rules);
	return 0;
}

static int cmd_export(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	(void)args;
	*result = sl_doc_export(d->rules);
	return *result ? 0 : sl_err_set(err, ENOMEM, "out of memory");
}

static int cmd_flush(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	struct sl_dp_ct *ct = sl_ruleset_conntrack(d->rules);
	unsigned int flows = 0;
	size_t n;

	(void)args;
	n = sl_ruleset_flush(d->rules);
	if (ct)
		sl_dp_ct_flush(ct, 0, &flows);
	sl_state_changed(d);
	*result = json_pack("{s:I, s:I}", "deleted", (json_int_t)n, "flows", (json_int_t)flows);
	return *result ? 0 : sl_err_set(err, ENOMEM, "out of memory");
}

static const struct sl_command commands[] = {
	{ "hello", cmd_hello, no_args },
	{ "status", cmd_status, status_args },
	{ "add-drop", cmd_add_drop, add_drop_args },
	{ "add-redirect", cmd_add_redirect, add_redirect_args },
	{ "add-rewrite", cmd_add_rewrite, add_rewrite_args },
	{ "conntrack", cmd_conntrack, no_args },
	{ "conntrack-flush", cmd_conntrack_flush, flush_args },
	{ "list", cmd_list, list_args },
	{ "del", cmd_del, id_args },
	{ "stats", cmd_stats, id_args },
	{ "export", cmd_export, no_args },
	{ "apply", sl_cmd_apply, apply_args },
	{ "flush", cmd_flush, no_args },
	{ NULL, NULL, NULL },
};

static int cmd_hello(struct sl_daemon *d, json_t *args, json_t **result, struct sl_err *err)
{
	json_t *names = json_array();

	(void)d;
	(void)args;
	(void)err;
	for (const struct sl_command *c = commands; c->name; c++)
		json_array_append_new(names, json_string(c->name));
	*result = json_pack("{s:i, s:s, s:o}", "protocol", SL_PROTOCOL_VERSION, "version",
			    SLUICE_VERSION, "commands", names);
	return 0;
}

const struct sl_command *sl_command_find(const char *name)
{
	for (const struct sl_command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct sl_command *sl_command_table(void)
{
	return commands;
}
