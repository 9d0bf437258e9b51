// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conntrack.h"
#include "netns.h"
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
	struct sl_rule *dup[DUP_BUCKETS];
};

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
	sl_dp_hook_close(a->dp);
	free(a);
}

/* Finds an attach point, attaching the program when it is the first user there. */
static int attach_get(struct sl_ruleset *rs, const char *ifname, const char *netns,
		      enum sl_hook_kind kind, struct sl_attach **out, struct sl_err *err)
{
	struct sl_attach *a, **grown;
	uint64_t ino;
	int nsfd, rc;

	rc = sl_netns_open(netns, &nsfd, err);
	if (rc)
		return rc;
	rc = nsfd >= 0 ? sl_netns_ino(nsfd, &ino) : sl_netns_self_ino(&ino);
	if (rc) {
		rc = sl_err_set(err, -rc, "cannot identify network namespace: %s", strerror(-rc));
		goto out;
	}
	a = attach_find(rs, ino, ifname, kind);
	if (a) {
		*out = a;
		goto out;
	}
	a = calloc(1, sizeof(*a));
	grown = realloc(rs->attaches, (rs->nattaches + 1) * sizeof(*grown));
	if (!a || !grown) {
		free(a);
		if (grown)
			rs->attaches = grown;
		rc = sl_err_set(err, ENOMEM, "out of memory");
		goto out;
	}
	rs->attaches = grown;
	rc = sl_dp_hook_open(ifname, nsfd, kind, &rs->opts, &a->dp, err);
	if (rc) {
		free(a);
		goto out;
	}
	snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
	snprintf(a->netns, sizeof(a->netns), "%s", netns ? netns : "");
	a->netns_ino = ino;
	a->kind = kind;
	rs->attaches[rs->nattaches++] = a;
	*out = a;
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

int sl_ruleset_add(struct sl_ruleset *rs, const struct sl_rule_spec *spec_in, uint64_t *id,
		   struct sl_err *err)
{
	uint32_t action = spec_in->action ? spec_in->action : SL_ACTION_DROP;
	struct sl_dp_action act = { .kind = action, .priority = spec_in->priority };
	struct sl_attach *a = NULL, *ra = NULL;
	struct sl_rule_spec spec_buf = *spec_in;
	struct sl_rule_spec *spec = &spec_buf;
	struct sl_rule *r, *d;
	size_t b;
	int rc;

	if (spec->name && strlen(spec->name) > SL_NAME_MAX)
		return sl_err_set(err, EINVAL, "name is longer than %d bytes", SL_NAME_MAX);
	if (action == SL_ACTION_REWRITE) {
		rc = sl_rewrite_prepare(spec, rs->next_id, &act.nat, err);
		if (rc)
			return rc;
	}
	rc = sl_match_validate(&spec->match, err);
	if (rc)
		return rc;
	if (action == SL_ACTION_REDIRECT ||
	    (action == SL_ACTION_REWRITE && spec->redirect.mode)) {
		rc = resolve_redirect(spec, sl_match_family(&spec->match), &act.redirect, err);
		if (rc)
			return rc;
	}
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
	rc = attach_get(rs, spec->ifname, spec->netns, spec->kind, &a, err);
	if (rc) {
		free(r);
		return rc;
	}

	b = dup_bucket(a, &spec->match);
	for (d = rs->dup[b]; d; d = d->dup_next) {
		/* A drop and a redirect of one match coexist (drop wins); two of a kind would not. */
		if (d->attach == a && (d->action == SL_ACTION_DROP) == (action == SL_ACTION_DROP) &&
		    d->priority == act.priority &&
		    !memcmp(&d->match, &spec->match, sizeof(d->match))) {
			free(r);
			attach_release(rs, a);
			return sl_err_set(err, EEXIST, "rule %llu already matches exactly this on %s %s%s",
					  (unsigned long long)d->id, a->ifname, sl_hook_name(a->kind),
					  action != SL_ACTION_DROP
						  ? " (a different priority would rank them)"
						  : "");
		}
	}

	if (action == SL_ACTION_REWRITE) {
		const char *rif;
		enum sl_hook_kind rkind;

		rc = allow_localnet_replies(spec, act.nat.family, err);
		if (rc) {
			free(r);
			attach_release(rs, a);
			return rc;
		}

		reply_point(spec, &rif, &rkind);
		rc = attach_get(rs, rif, spec->netns, rkind, &ra, err);
		if (rc) {
			free(r);
			attach_release(rs, a);
			return rc;
		}
		ra->nreplies++;
		sl_dp_hook_reply_point(ra->dp, true);
	}
	rc = sl_dp_rule_add_action(a->dp, &spec->match, &act, &r->slot, err);
	if (rc) {
		if (ra) {
			sl_dp_hook_reply_point(ra->dp, false);
			ra->nreplies--;
			attach_release(rs, ra);
		}
		free(r);
		attach_release(rs, a);
		return rc;
	}
	r->id = rs->next_id++;
	r->reply_attach = ra;
	r->match = spec->match;
	r->action = action;
	r->priority = act.priority;
	if (action != SL_ACTION_DROP) {
		r->redirect = spec->redirect;
		r->resolved = act.redirect;
	}
	r->rewrite = spec->rewrite;
	r->attach = a;
	if (spec->name)
		snprintf(r->name, sizeof(r->name), "%s", spec->name);
	a->nrules++;
	r->dup_next = rs->dup[b];
	rs->dup[b] = r;
	rs->rules[rs->nrules++] = r;
	*id = r->id;
	return 0;
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
		sl_dp_hook_reply_point(r->reply_attach->dp, false);
		r->reply_attach->nreplies--;
		attach_release(rs, r->reply_attach);
		r->reply_attach = NULL;
	}
}

int sl_ruleset_del(struct sl_ruleset *rs, uint64_t id, struct sl_err *err)
{
	ssize_t i = rule_index(rs, id);
	struct sl_rule *r;
	int rc;

	if (i < 0)
		return sl_err_set(err, ENOENT, "no rule %llu", (unsigned long long)id);
	r = rs->rules[i];
	rc = sl_dp_rule_del(r->attach->dp, r->slot, err);
	if (rc)
		return rc;
	dup_unlink(rs, r);
	memmove(&rs->rules[i], &rs->rules[i + 1], (rs->nrules - (size_t)i - 1) * sizeof(r));
	rs->nrules--;
	r->attach->nrules--;
	rule_release_replies(rs, r);
	attach_release(rs, r->attach);
	free(r);
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
		free(rs->rules[i]);
	}
	while (rs->nattaches)
		attach_release(rs, rs->attaches[rs->nattaches - 1]);
	free(rs->attaches);
	free(rs->rules);
	free(rs);
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
