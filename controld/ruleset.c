// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <unistd.h>

#include "conntrack.h"
#include "netns.h"
#include "rule_args.h"
#include "ruleset.h"
#include "sl_log.h"

#define DUP_BUCKETS 65536

struct sl_ruleset {
	struct sl_dp_opts opts;
	struct sl_rule **rules; /* sorted by id, since ids only grow */
	size_t nrules, cap;
	struct sl_attach **attaches;
	size_t nattaches;
	uint64_t next_id;
	size_t max_rules; /* 0: no limit */
	struct sl_rule *dup[DUP_BUCKETS];
};

void sl_ruleset_set_max(struct sl_ruleset *rs, size_t max_rules)
{
	rs->max_rules = max_rules;
}

struct sl_ruleset *sl_ruleset_new(const struct sl_dp_opts *opts)
{
	struct sl_ruleset *rs = calloc(1, sizeof(*rs));

	if (!rs)
		return NULL;
	if (opts)
		rs->opts = *opts;
	rs->next_id = 1;
	return rs;
}

static void rule_free(struct sl_rule *r)
{
	if (r)
		free(r->canon);
	free(r);
}

static size_t dup_bucket(const struct sl_attach *a, const struct sl_match *m)
{
	const unsigned char *p = (const unsigned char *)m;
	uint64_t h = 1469598103934665603ull ^ (uintptr_t)a;

	for (size_t i = 0; i < sizeof(*m); i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	return (size_t)(h % DUP_BUCKETS);
}

static void dup_unlink(struct sl_ruleset *rs, struct sl_rule *r)
{
	struct sl_rule **pp = &rs->dup[dup_bucket(r->attach, &r->match)];

	for (; *pp; pp = &(*pp)->dup_next) {
		if (*pp == r) {
			*pp = r->dup_next;
			return;
		}
	}
}

static struct sl_attach *attach_find(struct sl_ruleset *rs, uint64_t ino, const char *ifname,
				     enum sl_hook_kind kind)
{
	for (size_t i = 0; i < rs->nattaches; i++) {
		struct sl_attach *a = rs->attaches[i];

		if (a->netns_ino == ino && a->kind == kind && !strcmp(a->ifname, ifname))
			return a;
	}
	return NULL;
}

static void attach_release(struct sl_ruleset *rs, struct sl_attach *a)
{
	if (a->nrules || a->nreplies)
		return;
	for (size_t i = 0; i < rs->nattaches; i++) {
		if (rs->attaches[i] == a) {
			rs->attaches[i] = rs->attaches[--rs->nattaches];
			break;
		}
	}
	if (a->dp)
		sl_dp_hook_close(a->dp);
	free(a);
}

static struct sl_attach *attach_new(struct sl_ruleset *rs, const char *ifname, const char *netns,
				     enum sl_hook_kind kind, uint64_t ino, struct sl_err *err)
{
	struct sl_attach *a = calloc(1, sizeof(*a));
	struct sl_attach **grown = realloc(rs->attaches, (rs->nattaches + 1) * sizeof(*grown));

	if (grown)
		rs->attaches = grown;
	if (!a || !grown) {
		free(a);
		sl_err_set(err, ENOMEM, "out of memory");
		return NULL;
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->netns, sizeof(a->netns), "%s", netns ? netns : "");
	a->netns_ino = ino;
	a->kind = kind;
	rs->attaches[rs->nattaches++] = a;
	return a;
}

/* The attach point named exactly so (its namespace may not exist now). */
static struct sl_attach *attach_find_named(struct sl_ruleset *rs, const char *ifname,
					   const char *netns, enum sl_hook_kind kind)
{
	for (size_t i = rs->nattaches; i > 0; i--) {
		struct sl_attach *a = rs->attaches[i - 1];

		if (a->kind == kind && !strcmp(a->ifname, ifname) &&
		    !strcmp(a->netns, netns ? netns : ""))
			return a;
	}
	return NULL;
}

/* How attach_get treats an attach point that is not attached. */
enum attach_how {
	ATTACH_NOW,       /* attach it; a missing interface is an error */
	ATTACH_OR_DETACH, /* attach it, or keep it detached while its interface is missing */
	ATTACH_LATER,     /* leave it detached: sl_ruleset_resync() attaches (restore) */
};

static bool is_missing(int code)
{
	return code == ENOENT || code == ENODEV;
}

/* Finds an attach point, attaching the program when it is the first user there. */
static int attach_get(struct sl_ruleset *rs, const char *ifname, const char *netns,
		      enum sl_hook_kind kind, enum attach_how how, struct sl_attach **out,
		      struct sl_err *err)
{
	struct sl_attach *a = NULL, *named = attach_find_named(rs, ifname, netns, kind);
	struct sl_dp_hook *dp = NULL;
	uint64_t ino = 0;
	int nsfd, rc;

	/* Named as before: no need to open the namespace (bulk adds name one many times). */
	if (named && named->dp) {
		*out = named;
		return 0;
	}
	rc = sl_netns_open(netns, &nsfd, err);
	if (!rc) {
		rc = nsfd >= 0 ? sl_netns_ino(nsfd, &ino) : sl_netns_self_ino(&ino);
		if (rc)
			rc = sl_err_set(err, -rc, "cannot identify network namespace: %s",
					strerror(-rc));
	}
	if (!rc)
		a = attach_find(rs, ino, ifname, kind);
	if (!a)
		a = named;
	if (a && (a->dp || how != ATTACH_NOW)) {
		*out = a;
		rc = 0;
		goto out;
	}
	if (a) {
		rc = sl_err_set(err, ENODEV, "%s %s is detached: %s", a->ifname,
				sl_hook_name(a->kind), a->why);
		goto out;
	}
	if (!rc && how != ATTACH_LATER)
		rc = sl_dp_hook_open(ifname, nsfd, kind, &rs->opts, &dp, err);
	/* Restoring saved rules never fails on a namespace: the rule waits, detached, with the reason. */
	if (rc && how != ATTACH_LATER && !(how == ATTACH_OR_DETACH && is_missing(err->code)))
		goto out;
	a = attach_new(rs, ifname, netns, kind, dp ? ino : 0, err);
	if (!a) {
		sl_dp_hook_close(dp);
		rc = -ENOMEM;
		goto out;
	}
	a->dp = dp;
	if (!dp)
		snprintf(a->why, sizeof(a->why), "%s", rc ? err->msg : "not attached yet");
	*out = a;
	rc = 0;
out:
	if (nsfd >= 0)
		close(nsfd);
	return rc;
}

/* Checks the target in the rule's namespace before anything is attached. */
static int resolve_redirect(const struct sl_rule_spec *spec, int family,
			    struct sl_redirect *out, struct sl_err *err)
{
	int nsfd, rc;

	rc = sl_netns_open(spec->netns, &nsfd, err);
	if (rc)
		return rc;
	rc = sl_redirect_resolve(nsfd, spec->ifname, spec->kind, family, &spec->redirect, out,
				 err);
	if (nsfd >= 0)
		close(nsfd);
	return rc;
}

/*
 * Replies of flows that came from lo go back into lo without a route
 * attached, and the kernel drops input to 127.0.0.0/8 as martian unless
 * route_localnet is on for lo. On lo only, it admits nothing else: every
 * packet there already comes from this host.
 */
static int allow_localnet_replies(const struct sl_rule_spec *spec, uint8_t family,
				  struct sl_err *err)
{
	char was = '?';
	int nsfd, rc;

	if (family != SL_FAMILY_IPV4 || !spec->redirect.mode || strcmp(spec->ifname, "lo"))
		return 0;
	rc = sl_netns_open(spec->netns, &nsfd, err);
	if (rc)
		return rc;
	rc = sl_netns_sysctl_set(nsfd, "/proc/sys/net/ipv4/conf/lo/route_localnet", "1", &was,
				 err);
	if (nsfd >= 0)
		close(nsfd);
	if (!rc && was == '0')
		sl_log(SL_LOG_INFO, "set net.ipv4.conf.lo.route_localnet=1 in %s: replies to lo "
				    "arrive without a route",
		       spec->netns && spec->netns[0] ? spec->netns : "sluiced's namespace");
	return rc;
}

/* Where replies of a rewrite rule's flows arrive: the redirect target's ingress, or IF's other way. */
static void reply_point(const struct sl_rule_spec *spec, const char **ifname,
			enum sl_hook_kind *kind)
{
	if (spec->redirect.mode) {
		*ifname = spec->redirect.to;
		*kind = SL_HOOK_TC_INGRESS;
		return;
	}
	*ifname = spec->ifname;
	*kind = spec->kind == SL_HOOK_TC_EGRESS ? SL_HOOK_TC_INGRESS : SL_HOOK_TC_EGRESS;
}

void sl_rule_spec_of(const struct sl_rule *r, struct sl_rule_spec *spec)
{
	memset(spec, 0, sizeof(*spec));
	spec->ifname = r->attach->ifname;
	spec->netns = r->attach->netns;
	spec->kind = r->attach->kind;
	spec->name = r->name[0] ? r->name : NULL;
	spec->match = r->match;
	spec->action = r->action;
	spec->priority = r->priority;
	spec->redirect = r->redirect;
	spec->rewrite = r->rewrite;
}

/*
 * What the datapath does for spec: the translation (narrowing spec's match
 * to its family) and, with resolve, the redirect target as it is now.
 */
static int rule_action(struct sl_rule_spec *spec, uint64_t id, bool resolve,
		       struct sl_dp_action *act, struct sl_err *err)
{
	int rc;

	memset(act, 0, sizeof(*act));
	act->kind = spec->action ? spec->action : SL_ACTION_DROP;
	act->priority = spec->priority;
	if (spec->name && strlen(spec->name) > SL_NAME_MAX)
		return sl_err_set(err, EINVAL, "name is longer than %d bytes", SL_NAME_MAX);
	if (act->kind == SL_ACTION_REWRITE) {
		rc = sl_rewrite_prepare(spec, id, &act->nat, err);
		if (rc)
			return rc;
	}
	rc = sl_match_validate(&spec->match, err);
	if (rc || !resolve)
		return rc;
	if (act->kind == SL_ACTION_REDIRECT ||
	    (act->kind == SL_ACTION_REWRITE && spec->redirect.mode))
		rc = resolve_redirect(spec, sl_match_family(&spec->match), &act->redirect, err);
	if (!rc && act->kind == SL_ACTION_REWRITE)
		rc = allow_localnet_replies(spec, act->nat.family, err);
	return rc;
}

int sl_rule_spec_check(struct sl_rule_spec *spec, struct sl_err *err)
{
	struct sl_dp_action act;

	return rule_action(spec, 1, false, &act, err);
}

/*
 * Puts r into its attached hook: in slot, when given and free, for the
 * counters left there. resolved: r's action with its redirect resolved
 * already (a live add), or NULL to work it out now.
 */
static int rule_install(struct sl_rule *r, uint32_t slot, const struct sl_dp_action *resolved,
			struct sl_err *err)
{
	struct sl_dp_hook *dp = r->attach->dp;
	struct sl_rule_spec spec;
	struct sl_dp_action act;
	int rc;

	sl_rule_spec_of(r, &spec);
	if (resolved) {
		act = *resolved;
	} else {
		rc = rule_action(&spec, r->id, true, &act, err);
		if (rc)
			return rc;
	}
	rc = -EEXIST;
	if (slot != UINT32_MAX && sl_dp_hook_counters_kept(dp))
		rc = sl_dp_rule_restore(dp, &spec.match, &act, slot, err);
	if (rc == -EEXIST || rc == -ENOSPC)
		rc = sl_dp_rule_add_action(dp, &spec.match, &act, &r->slot, err);
	else if (!rc)
		r->slot = slot;
	if (!rc)
		r->resolved = act.redirect;
	return rc;
}

static void reply_point_ref(struct sl_attach *ra, bool on)
{
	if (on)
		ra->nreplies++;
	else
		ra->nreplies--;
	if (ra->dp)
		sl_dp_hook_reply_point(ra->dp, on);
}

/* Keeps rules sorted by id: live adds append, restores and rollbacks may not. */
static void rules_insert(struct sl_ruleset *rs, struct sl_rule *r)
{
	size_t i = rs->nrules;

	while (i > 0 && rs->rules[i - 1]->id > r->id)
		i--;
	memmove(&rs->rules[i + 1], &rs->rules[i], (rs->nrules - i) * sizeof(r));
	rs->rules[i] = r;
	rs->nrules++;
}

static int rule_add(struct sl_ruleset *rs, const struct sl_rule_spec *spec_in,
		    enum attach_how how, uint64_t want_id, uint32_t slot, uint64_t *id,
		    struct sl_err *err)
{
	struct sl_rule_spec spec = *spec_in;
	uint64_t rid = want_id ? want_id : rs->next_id;
	struct sl_attach *a = NULL, *ra = NULL;
	struct sl_dp_action act;
	struct sl_rule *r, *d;
	size_t b;
	int rc;

	if (rid == 0 || rid > INT64_MAX)
		return sl_err_set(err, EINVAL, "rule id %llu is out of range", (unsigned long long)rid);
	if (want_id && sl_ruleset_get(rs, want_id))
		return sl_err_set(err, EEXIST, "rule %llu exists", (unsigned long long)want_id);
	if (rs->max_rules && rs->nrules >= rs->max_rules)
		return sl_err_set(err, ENOSPC, "sluiced holds %zu rules, its maximum (--max-rules)",
				  rs->max_rules);
	/* The redirect target is checked before anything is attached, for a live add. */
	rc = rule_action(&spec, rid, how == ATTACH_NOW, &act, err);
	if (rc)
		return rc;
	if (rs->nrules == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct sl_rule **grown = realloc(rs->rules, cap * sizeof(*grown));

		if (!grown)
			return sl_err_set(err, ENOMEM, "out of memory");
		rs->rules = grown;
		rs->cap = cap;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return sl_err_set(err, ENOMEM, "out of memory");
	rc = attach_get(rs, spec.ifname, spec.netns, spec.kind, how, &a, err);
	if (rc) {
		rule_free(r);
		return rc;
	}

	b = dup_bucket(a, &spec.match);
	for (d = rs->dup[b]; d; d = d->dup_next) {
		/* A drop and a redirect of one match coexist (drop wins); two of a kind would not. */
		if (d->attach == a && (d->action == SL_ACTION_DROP) == (act.kind == SL_ACTION_DROP) &&
		    d->priority == act.priority &&
		    !memcmp(&d->match, &spec.match, sizeof(d->match))) {
			rule_free(r);
			attach_release(rs, a);
			return sl_err_set(err, EEXIST, "rule %llu already matches exactly this on %s %s%s",
					  (unsigned long long)d->id, a->ifname, sl_hook_name(a->kind),
					  act.kind != SL_ACTION_DROP
						  ? " (a different priority would rank them)"
						  : "");
		}
	}

	r->id = rid;
	r->match = spec.match;
	r->action = act.kind;
	r->priority = act.priority;
	if (act.kind != SL_ACTION_DROP) {
		r->redirect = spec.redirect;
		r->resolved = act.redirect;
	}
	r->rewrite = spec.rewrite;
	r->attach = a;
	r->slot = slot;
	if (spec.name)
		snprintf(r->name, sizeof(r->name), "%s", spec.name);
	if (spec.canon && !strcmp(a->netns, spec.netns ? spec.netns : "")) {
		r->canon = strdup(spec.canon);
	} else {
		struct sl_rule_spec as_named;

		sl_rule_spec_of(r, &as_named);
		r->canon = sl_spec_canonical(&as_named);
	}
	if (!r->canon) {
		rule_free(r);
		attach_release(rs, a);
		return sl_err_set(err, ENOMEM, "out of memory");
	}

	if (act.kind == SL_ACTION_REWRITE) {
		const char *rif;
		enum sl_hook_kind rkind;

		reply_point(&spec, &rif, &rkind);
		rc = attach_get(rs, rif, spec.netns, rkind, how, &ra, err);
		if (rc) {
			rule_free(r);
			attach_release(rs, a);
			return rc;
		}
		reply_point_ref(ra, true);
	}
	if (a->dp) {
		rc = rule_install(r, slot, how == ATTACH_NOW ? &act : NULL, err);
		r->installed = rc == 0;
		if (rc) {
			if (ra) {
				reply_point_ref(ra, false);
				attach_release(rs, ra);
			}
			rule_free(r);
			attach_release(rs, a);
			return rc;
		}
	}
	r->reply_attach = ra;
	if (rid >= rs->next_id)
		rs->next_id = rid + 1;
	a->nrules++;
	r->dup_next = rs->dup[b];
	rs->dup[b] = r;
	rules_insert(rs, r);
	*id = r->id;
	return 0;
}

int sl_ruleset_add(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t *id,
		   struct sl_err *err)
{
	return rule_add(rs, spec, ATTACH_NOW, 0, UINT32_MAX, id, err);
}

int sl_ruleset_add_detached(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t id,
			    uint32_t slot, uint64_t *id_out, struct sl_err *err)
{
	return rule_add(rs, spec, ATTACH_LATER, id, slot, id_out, err);
}

int sl_ruleset_add_or_detach(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t id,
			     uint64_t *id_out, struct sl_err *err)
{
	return rule_add(rs, spec, ATTACH_OR_DETACH, id, UINT32_MAX, id_out, err);
}

static ssize_t rule_index(const struct sl_ruleset *rs, uint64_t id)
{
	size_t lo = 0, hi = rs->nrules;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rs->rules[mid]->id == id)
			return (ssize_t)mid;
		if (rs->rules[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

struct sl_rule *sl_ruleset_get(struct sl_ruleset *rs, uint64_t id)
{
	ssize_t i = rule_index(rs, id);

	return i < 0 ? NULL : rs->rules[i];
}

/* A rewrite rule's flows go with it, and its reply point when nothing else uses it. */
static void rule_release_replies(struct sl_ruleset *rs, struct sl_rule *r)
{
	unsigned int flushed = 0;

	if (r->action != SL_ACTION_REWRITE)
		return;
	if (rs->opts.ct && sl_dp_ct_flush(rs->opts.ct, r->id, &flushed))
		sl_log(SL_LOG_WARN, "rule %llu: could not flush its conntrack entries",
		       (unsigned long long)r->id);
	if (r->reply_attach) {
		reply_point_ref(r->reply_attach, false);
		attach_release(rs, r->reply_attach);
		r->reply_attach = NULL;
	}
}

/* Takes rule i out of the table, and its attach points when nothing else uses them. */
static void rule_forget(struct sl_ruleset *rs, size_t i)
{
	struct sl_rule *r = rs->rules[i];

	dup_unlink(rs, r);
	memmove(&rs->rules[i], &rs->rules[i + 1], (rs->nrules - i - 1) * sizeof(r));
	rs->nrules--;
	r->attach->nrules--;
	rule_release_replies(rs, r);
	attach_release(rs, r->attach);
	rule_free(r);
}

int sl_ruleset_del(struct sl_ruleset *rs, uint64_t id, struct sl_err *err)
{
	ssize_t i = rule_index(rs, id);
	struct sl_rule *r;
	int rc;

	if (i < 0)
		return sl_err_set(err, ENOENT, "no rule %llu", (unsigned long long)id);
	r = rs->rules[i];
	rc = r->installed ? sl_dp_rule_del(r->attach->dp, r->slot, err) : 0;
	if (rc)
		return rc;
	rule_forget(rs, (size_t)i);
	return 0;
}

void sl_ruleset_free(struct sl_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++) {
		rs->rules[i]->attach->nrules = 0;
		if (rs->rules[i]->reply_attach)
			rs->rules[i]->reply_attach->nreplies = 0;
		rule_free(rs->rules[i]);
	}
	while (rs->nattaches)
		attach_release(rs, rs->attaches[rs->nattaches - 1]);
	free(rs->attaches);
	free(rs->rules);
	free(rs);
}

void sl_ruleset_release(struct sl_ruleset *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nrules; i++)
		rule_free(rs->rules[i]);
	for (size_t i = 0; i < rs->nattaches; i++) {
		sl_dp_hook_release(rs->attaches[i]->dp);
		free(rs->attaches[i]);
	}
	free(rs->attaches);
	free(rs->rules);
	free(rs);
}

size_t sl_ruleset_flush(struct sl_ruleset *rs)
{
	size_t n = 0;

	while (rs->nrules) {
		struct sl_err err = { 0 };
		uint64_t id = rs->rules[rs->nrules - 1]->id;

		if (sl_ruleset_del(rs, id, &err)) {
			/* The datapath refused (out of memory): the hook goes as a whole with its last rule. */
			sl_log(SL_LOG_WARN, "flush: rule %llu: %s", (unsigned long long)id, err.msg);
			rule_forget(rs, rs->nrules - 1);
		}
		n++;
	}
	return n;
}

/* Whether a's hook still sits where its rules name it. */
static bool attach_intact(const struct sl_attach *a)
{
	struct sl_err err = { 0 };
	uint64_t ino = 0;
	int nsfd, saved;
	bool ok;

	if (sl_netns_open(a->netns, &nsfd, &err))
		return false;
	ok = !(nsfd >= 0 ? sl_netns_ino(nsfd, &ino) : sl_netns_self_ino(&ino)) &&
	     ino == a->netns_ino;
	if (ok && !sl_netns_enter(nsfd, &saved, &err)) {
		ok = (int)if_nametoindex(a->ifname) == sl_dp_hook_ifindex(a->dp);
		sl_netns_leave(saved);
	}
	if (nsfd >= 0)
		close(nsfd);
	return ok;
}

/* Closes a's hook; its rules stay in the table, out of the datapath. */
static void attach_drop_hook(struct sl_ruleset *rs, struct sl_attach *a)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i]->attach == a)
			rs->rules[i]->installed = false;
	sl_dp_hook_close(a->dp);
	a->dp = NULL;
}

static void attach_lose(struct sl_ruleset *rs, struct sl_attach *a)
{
	sl_log(SL_LOG_WARN, "%s %s%s%s: interface or namespace gone; its %u rules stay configured, detached",
	       a->ifname, sl_hook_name(a->kind), a->netns[0] ? " in " : "", a->netns, a->nrules);
	attach_drop_hook(rs, a);
	snprintf(a->why, sizeof(a->why), "interface or namespace gone");
}

/* Installs a's rules that are not in its datapath; returns how many went in. */
static int attach_install(struct sl_ruleset *rs, struct sl_attach *a)
{
	int n = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct sl_rule *r = rs->rules[i];
		struct sl_err err = { 0 };

		if (r->attach != a || r->installed)
			continue;
		if (rule_install(r, r->slot, NULL, &err)) {
			sl_log(SL_LOG_WARN, "rule %llu on %s %s stays out of the datapath: %s",
			       (unsigned long long)r->id, a->ifname, sl_hook_name(a->kind), err.msg);
			continue;
		}
		r->installed = true;
		n++;
	}
	return n;
}

/*
 * Attaches a detached attach point: loads a program, puts every rule in it
 * and only then attaches it, in place of what a previous daemon left there.
 */
static int attach_restore(struct sl_ruleset *rs, struct sl_attach *a, struct sl_err *err)
{
	struct sl_attach *other;
	struct sl_dp_hook *dp;
	uint64_t ino = 0;
	int nsfd, rc, n;

	rc = sl_netns_open(a->netns, &nsfd, err);
	if (rc)
		return rc;
	rc = nsfd >= 0 ? sl_netns_ino(nsfd, &ino) : sl_netns_self_ino(&ino);
	if (rc) {
		rc = sl_err_set(err, -rc, "cannot identify network namespace: %s", strerror(-rc));
		goto out;
	}
	other = attach_find(rs, ino, a->ifname, a->kind);
	if (other && other != a && other->dp) {
		rc = sl_err_set(err, EEXIST, "the same interface is attached under netns '%s'",
				other->netns);
		goto out;
	}
	rc = sl_dp_hook_prepare(a->ifname, nsfd, a->kind, &rs->opts, &dp, err);
	if (rc)
		goto out;
	a->dp = dp;
	n = attach_install(rs, a);
	for (uint32_t i = 0; i < a->nreplies; i++)
		sl_dp_hook_reply_point(dp, true);
	rc = sl_dp_hook_attach(dp, err);
	if (rc) {
		attach_drop_hook(rs, a);
		goto out;
	}
	a->netns_ino = ino;
	a->why[0] = '\0';
	sl_log(SL_LOG_INFO, "%s %s%s%s: attached with %d of its %u rules", a->ifname,
	       sl_hook_name(a->kind), a->netns[0] ? " in " : "", a->netns, n, a->nrules);
out:
	if (nsfd >= 0)
		close(nsfd);
	return rc;
}

/* Whether r redirects to a named interface whose ifindex is no longer the one resolved. */
static bool target_moved(const struct sl_rule *r)
{
	unsigned int ifindex;

	if (!r->installed || !r->redirect.mode || !r->redirect.to[0])
		return false;
	ifindex = if_nametoindex(r->redirect.to);
	return ifindex && ifindex != r->resolved.ifindex;
}

/*
 * Redirect targets of a's installed rules that were recreated (another
 * ifindex now, e.g. a container's veth) are resolved again and the rule
 * pointed at them. Targets live in a's namespace (a kernel constraint):
 * it is entered once to look, and the few that moved are resolved after.
 */
static void attach_retarget(struct sl_ruleset *rs, struct sl_attach *a)
{
	struct sl_rule **moved = NULL;
	struct sl_err err = { 0 };
	size_t nmoved = 0;
	int nsfd, saved;

	if (sl_netns_open(a->netns, &nsfd, &err))
		return;
	if (!sl_netns_enter(nsfd, &saved, &err)) {
		for (size_t i = 0; i < rs->nrules; i++) {
			struct sl_rule *r = rs->rules[i], **grown;

			if (r->attach != a || !target_moved(r))
				continue;
			grown = realloc(moved, (nmoved + 1) * sizeof(*moved));
			if (!grown)
				break;
			moved = grown;
			moved[nmoved++] = r;
		}
		sl_netns_leave(saved);
	}
	if (nsfd >= 0)
		close(nsfd);
	for (size_t i = 0; i < nmoved; i++) {
		struct sl_rule *r = moved[i];
		struct sl_rule_spec spec;
		struct sl_redirect now;
		int rc;

		sl_rule_spec_of(r, &spec);
		rc = resolve_redirect(&spec, sl_match_family(&spec.match), &now, &err);
		if (!rc) {
			rc = sl_dp_rule_set_redirect(a->dp, r->slot, &now);
			if (rc)
				sl_err_set(&err, -rc, "%s", strerror(-rc));
		}
		if (rc) {
			sl_log(SL_LOG_WARN, "rule %llu: redirect target %s came back but cannot be used: %s",
			       (unsigned long long)r->id, r->redirect.to, err.msg);
			continue;
		}
		sl_log(SL_LOG_INFO, "rule %llu: redirect target %s is back (ifindex %u, was %u)",
		       (unsigned long long)r->id, r->redirect.to, now.ifindex, r->resolved.ifindex);
		r->resolved = now;
	}
	free(moved);
}

int sl_ruleset_resync(struct sl_ruleset *rs)
{
	int changed = 0;

	for (size_t i = 0; i < rs->nattaches; i++) {
		struct sl_attach *a = rs->attaches[i];
		struct sl_err err = { 0 };

		if (a->dp && attach_intact(a)) {
			attach_install(rs, a);
			attach_retarget(rs, a);
			continue;
		}
		if (a->dp) {
			attach_lose(rs, a);
			changed++;
		}
		if (!attach_restore(rs, a, &err)) {
			changed++;
		} else if (strcmp(a->why, err.msg)) {
			sl_log(SL_LOG_DEBUG, "%s %s stays detached: %s", a->ifname,
			       sl_hook_name(a->kind), err.msg);
			snprintf(a->why, sizeof(a->why), "%s", err.msg);
		}
	}
	return changed;
}

bool sl_ruleset_owns_pin_dir(struct sl_ruleset *rs, const char *dir)
{
	for (size_t i = 0; i < rs->nattaches; i++) {
		struct sl_attach *a = rs->attaches[i];

		if (a->dp && !strcmp(sl_dp_hook_pin_dir(a->dp), dir))
			return true;
	}
	return false;
}

uint64_t sl_ruleset_next_id(const struct sl_ruleset *rs)
{
	return rs->next_id;
}

void sl_ruleset_set_next_id(struct sl_ruleset *rs, uint64_t next)
{
	if (next > rs->next_id)
		rs->next_id = next;
}

struct sl_dp_ct *sl_ruleset_conntrack(struct sl_ruleset *rs)
{
	return rs->opts.ct;
}

size_t sl_ruleset_count(const struct sl_ruleset *rs)
{
	return rs->nrules;
}

struct sl_rule *sl_ruleset_at(struct sl_ruleset *rs, size_t i)
{
	return rs->rules[i];
}

size_t sl_ruleset_attach_count(const struct sl_ruleset *rs)
{
	return rs->nattaches;
}

struct sl_attach *sl_ruleset_attach_at(struct sl_ruleset *rs, size_t i)
{
	return rs->attaches[i];
}
