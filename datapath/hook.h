/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One attach point (namespace, interface, hook) with its own program
 * instance and maps. The first rule opens it, the last rule's removal
 * closes it, leaving the interface as it was.
 */
#ifndef SLUICE_HOOK_H
#define SLUICE_HOOK_H

#include <stdbool.h>
#include <stdint.h>

#include "match.h"
#include "sl_err.h"
#include "sluice_abi.h"

enum sl_hook_kind { SL_HOOK_XDP, SL_HOOK_TC_INGRESS, SL_HOOK_TC_EGRESS };

/* tc filter identity sluice uses on clsact, so it never takes another tool's slot. */
#define SL_TC_PRIORITY 0xc51c
#define SL_TC_HANDLE 0x51ce

struct sl_dp_hook;
struct sl_dp_ct;

struct sl_dp_opts {
	uint32_t rule_slots; /* rules this hook can hold; 0 = SL_DEFAULT_RULE_SLOTS */
	/*
	 * The conntrack every hook shares (conntrack.h); NULL: the hook gets a
	 * tiny private one, enough for drop and redirect rules only.
	 */
	struct sl_dp_ct *ct;
	/*
	 * bpffs directory the hook pins its program and counters under
	 * (pin.h), so they outlive the daemon; NULL: nothing is pinned.
	 */
	const char *pin_root;
};

const char *sl_hook_name(enum sl_hook_kind kind);
int sl_hook_parse(const char *text, enum sl_hook_kind *kind);

/* Loads the program and attaches it to ifname inside netns_fd (-1: own namespace). */
int sl_dp_hook_open(const char *ifname, int netns_fd, enum sl_hook_kind kind,
		    const struct sl_dp_opts *opts, struct sl_dp_hook **out, struct sl_err *err);
/*
 * The two halves of sl_dp_hook_open, for taking over a datapath a previous
 * daemon left: prepare loads the program (keeping the pinned counters of
 * this attach point), the rules are restored into it, and attach puts it in
 * place of the old program in one step, so no packet sees an empty rule set.
 */
int sl_dp_hook_prepare(const char *ifname, int netns_fd, enum sl_hook_kind kind,
		       const struct sl_dp_opts *opts, struct sl_dp_hook **out, struct sl_err *err);
int sl_dp_hook_attach(struct sl_dp_hook *h, struct sl_err *err);
/* Whether prepare found this attach point's counters pinned. */
bool sl_dp_hook_counters_kept(const struct sl_dp_hook *h);
/* The pin directory of this attach point, "" when not pinned. */
const char *sl_dp_hook_pin_dir(const struct sl_dp_hook *h);
/*
 * Loads the program without attaching it anywhere: for BPF_PROG_TEST_RUN
 * tests and benchmarks, which program rules the same way the daemon does.
 */
int sl_dp_hook_open_detached(enum sl_hook_kind kind, const struct sl_dp_opts *opts,
			     struct sl_dp_hook **out, struct sl_err *err);
/* File descriptor of the hook's loaded program. */
int sl_dp_hook_prog_fd(const struct sl_dp_hook *h);

/* Detaches, unpins and frees; tolerates an interface or namespace that is gone. */
void sl_dp_hook_close(struct sl_dp_hook *h);
/* Frees the daemon's handle only: program, maps and pins stay in the kernel. */
void sl_dp_hook_release(struct sl_dp_hook *h);

/*
 * What a rule does. Redirects need a tc hook and a resolved target
 * (redirect.h); rewrites a tc hook, a translation and optionally a redirect
 * (mode 0: none).
 */
struct sl_dp_action {
	uint32_t kind;     /* SL_ACTION_DROP, SL_ACTION_REDIRECT or SL_ACTION_REWRITE */
	uint16_t priority; /* ranked rules: lowest wins, then the more specific match, then the older */
	struct sl_redirect redirect;
	struct sl_nat_rule nat;
};

/* Installs a rule; *slot identifies it in this hook. Changes nothing on failure. */
int sl_dp_rule_add_action(struct sl_dp_hook *h, const struct sl_match *m,
			  const struct sl_dp_action *act, uint32_t *slot, struct sl_err *err);
/* A drop rule. */
int sl_dp_rule_add(struct sl_dp_hook *h, const struct sl_match *m, uint32_t *slot,
		   struct sl_err *err);
/*
 * Installs a rule in the given slot, as a previous daemon left it: the
 * slot's counters are kept when the hook's counters were.
 */
int sl_dp_rule_restore(struct sl_dp_hook *h, const struct sl_match *m,
		       const struct sl_dp_action *act, uint32_t slot, struct sl_err *err);
int sl_dp_rule_del(struct sl_dp_hook *h, uint32_t slot, struct sl_err *err);
/* Points a redirect (or rewrite) rule at its target anew, e.g. a recreated interface. */
int sl_dp_rule_set_redirect(struct sl_dp_hook *h, uint32_t slot, const struct sl_redirect *r);

struct sl_dp_counters {
	uint64_t packets, bytes;
	uint64_t fallbacks;    /* redirect: not redirected, handed to the stack */
	uint64_t neigh_misses; /* route: no neighbour entry yet, resolved by the kernel */
	uint64_t nat_failures; /* rewrite: no free tuple or entry; the packet was dropped */
};

/* Sums the per-CPU counters of a rule. */
int sl_dp_rule_stats(struct sl_dp_hook *h, uint32_t slot, struct sl_dp_counters *out);
int sl_dp_rule_counters(struct sl_dp_hook *h, uint32_t slot, uint64_t *packets,
			uint64_t *bytes);

/*
 * Replies of flows translated elsewhere arrive at this hook: conntrack is
 * consulted here while any holder says so (counted), or while the hook has
 * rewrite rules of its own.
 */
void sl_dp_hook_reply_point(struct sl_dp_hook *h, bool on);
/* The conntrack zone of the hook: its network namespace. */
uint32_t sl_dp_hook_zone(const struct sl_dp_hook *h);

uint32_t sl_dp_hook_rule_count(const struct sl_dp_hook *h);
uint32_t sl_dp_hook_shape_count(const struct sl_dp_hook *h);
int sl_dp_hook_ifindex(const struct sl_dp_hook *h);
uint32_t sl_dp_hook_prog_id(const struct sl_dp_hook *h);
/* "native", "skb" or "" for tc hooks. */
const char *sl_dp_hook_xdp_mode(const struct sl_dp_hook *h);

#endif
