/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's rule table: every rule with its id, and the attach points
 * (namespace, interface, hook) its rules live on. Rule ids are never reused.
 */
#ifndef SLUICE_RULESET_H
#define SLUICE_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook.h"
#include "match.h"
#include "redirect.h"
#include "sl_err.h"

#define SL_NAME_MAX 64
#define SL_NETNS_SPEC_MAX 256

/*
 * An attach point. Its rules stay configured while the interface or
 * namespace is gone: dp is NULL then ("detached", why says what is
 * missing), and sl_ruleset_resync() attaches it again when it is back.
 */
struct sl_attach {
	char ifname[16];
	char netns[SL_NETNS_SPEC_MAX]; /* as the operator first named it; "" = own */
	uint64_t netns_ino;            /* 0 while the namespace is unknown */
	enum sl_hook_kind kind;
	struct sl_dp_hook *dp;         /* NULL: detached */
	char why[SL_ERR_MSG_MAX];      /* while detached: what is missing */
	uint32_t nrules;
	uint32_t nreplies; /* rewrite rules whose replies are restored here */
};

/* What a rewrite rule changes, as asked. Addresses are full-length prefixes. */
struct sl_rewrite_spec {
	bool has_src, has_dst, has_sport, has_dport;
	struct sl_prefix to_src, to_dst;
	struct sl_port_range to_sport;
	uint16_t to_dport;
};

struct sl_rule {
	uint64_t id;
	char name[SL_NAME_MAX + 1]; /* "" = none */
	struct sl_match match;       /* zero-filled beyond its fields: compared bytewise */
	uint32_t action;             /* SL_ACTION_* */
	uint16_t priority;           /* redirect */
	struct sl_redirect_spec redirect; /* redirect (and rewrite's optional one), as asked */
	struct sl_redirect resolved;      /* redirect, as the datapath does it */
	struct sl_rewrite_spec rewrite;   /* rewrite */
	struct sl_attach *attach;
	struct sl_attach *reply_attach;   /* rewrite: where its replies are restored */
	uint32_t slot;               /* in attach->dp; kept as a hint while detached */
	bool installed;              /* in the datapath now (its attach point attached) */
	char *canon;                 /* sl_spec_canonical() of the rule: apply compares, state saves it */
	struct sl_rule *dup_next;    /* chain of the duplicate-detection table */
};

/* What a new rule asks for, validated by the caller's parsers. */
struct sl_rule_spec {
	const char *ifname;
	const char *netns; /* NULL or "" = own namespace */
	enum sl_hook_kind kind;
	const char *name;  /* NULL = none */
	struct sl_match match;
	uint32_t action;   /* SL_ACTION_DROP (0 means drop too), _REDIRECT or _REWRITE */
	uint16_t priority; /* ranked rules: lower wins (default SL_DEFAULT_PRIORITY) */
	struct sl_redirect_spec redirect; /* rewrite: mode 0 = no redirect */
	struct sl_rewrite_spec rewrite;
	const char *canon; /* NULL, or sl_spec_canonical() of this spec, already computed */
};

#define SL_DEFAULT_PRIORITY 100

/*
 * rewrite.c: checks a rewrite rule's spec against its match, narrows the
 * match to the translated family, and fills the datapath's translation.
 */
int sl_rewrite_prepare(struct sl_rule_spec *spec, uint64_t rule_id, struct sl_nat_rule *out,
		       struct sl_err *err);

struct sl_ruleset;

struct sl_ruleset *sl_ruleset_new(const struct sl_dp_opts *opts);
/* Rules in total; adds past it fail with ENOSPC. 0: no limit. */
void sl_ruleset_set_max(struct sl_ruleset *rs, size_t max_rules);
/* Removes every rule, detaching all hooks. */
void sl_ruleset_free(struct sl_ruleset *rs);
/* Frees the table only: programs, maps and pins stay in place (a hitless restart). */
void sl_ruleset_release(struct sl_ruleset *rs);

/* Adds a rule on an interface that exists now. */
int sl_ruleset_add(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t *id,
		   struct sl_err *err);
/*
 * Adds a rule without touching the datapath: its attach point starts
 * detached and sl_ruleset_resync() installs it. id 0 takes the next id;
 * slot is a hint for the previous daemon's counters (UINT32_MAX: none).
 * Validates everything a live add does except the interfaces.
 */
int sl_ruleset_add_detached(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t id,
			    uint32_t slot, uint64_t *id_out, struct sl_err *err);
/* Adds a rule, detached when its namespace or interface is missing (apply). */
int sl_ruleset_add_or_detach(struct sl_ruleset *rs, const struct sl_rule_spec *spec, uint64_t id,
			     uint64_t *id_out, struct sl_err *err);
int sl_ruleset_del(struct sl_ruleset *rs, uint64_t id, struct sl_err *err);
/* Deletes every rule; returns how many. */
size_t sl_ruleset_flush(struct sl_ruleset *rs);

/*
 * Attaches every detached attach point whose namespace and interface exist
 * (restoring its rules), and detaches those whose interface or namespace
 * went away. Returns how many changed state.
 */
int sl_ruleset_resync(struct sl_ruleset *rs);
/* Whether dir is the pin directory of an attached hook (for sweeping orphans). */
bool sl_ruleset_owns_pin_dir(struct sl_ruleset *rs, const char *dir);

/* The id the next rule gets; ids are never reused. */
uint64_t sl_ruleset_next_id(const struct sl_ruleset *rs);
void sl_ruleset_set_next_id(struct sl_ruleset *rs, uint64_t next);
/* Validates spec as an add would, short of the interfaces, and normalises its match. */
int sl_rule_spec_check(struct sl_rule_spec *spec, struct sl_err *err);
/* The spec a rule was made from; strings point into r. */
void sl_rule_spec_of(const struct sl_rule *r, struct sl_rule_spec *spec);
struct sl_rule *sl_ruleset_get(struct sl_ruleset *rs, uint64_t id);

/* Rules in id order. */
size_t sl_ruleset_count(const struct sl_ruleset *rs);
struct sl_rule *sl_ruleset_at(struct sl_ruleset *rs, size_t i);

size_t sl_ruleset_attach_count(const struct sl_ruleset *rs);
/* The conntrack the rules' hooks share, or NULL. */
struct sl_dp_ct *sl_ruleset_conntrack(struct sl_ruleset *rs);
struct sl_attach *sl_ruleset_attach_at(struct sl_ruleset *rs, size_t i);

#endif
