/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* State of a hook shared by the attach and the rule-programming code. */
#ifndef SLUICE_HOOK_INTERNAL_H
#define SLUICE_HOOK_INTERNAL_H

#include <limits.h>
#include <net/if.h>
#include <xdp/libxdp.h>

#include "fastpath.h"
#include "hook.h"
#include "keyindex.h"
#include "sluice.skel.h"

struct sl_dp_hook {
	enum sl_hook_kind kind;
	char ifname[IF_NAMESIZE];
	int ifindex;
	int netns_fd; /* our own dup, -1 for the daemon's namespace */

	struct sluice_bpf *skel;
	struct xdp_program *xdp; /* NULL when attached in place of a stale program */
	enum xdp_attach_mode xdp_mode;
	bool created_clsact;
	bool attached;
	uint32_t prog_id;
	char pin_dir[PATH_MAX]; /* "" = nothing pinned */
	bool counters_kept;     /* counters came from the pin a previous daemon left */

	struct sl_shape shapes[SL_MAX_SHAPES];
	uint32_t shape_refs[SL_MAX_SHAPES]; /* entries using each shape; 0 = free */
	struct sl_fast fast;

	struct sl_keyindex *keys;
	struct sl_match *slot_match; /* the match of each slot in use */
	bool *slot_used;
	uint8_t *slot_action; /* SL_ACTION_* of the rule in each slot */
	uint32_t next_seq;    /* age of ranked rules */
	struct sl_dp_ct *ct;  /* shared conntrack, or NULL */
	uint32_t zone;
	uint32_t nrewrites;   /* rewrite rules here */
	uint32_t reply_refs;  /* rules elsewhere whose replies arrive here */
	uint32_t nslots, nrules;
	uint32_t *free_slots;
	uint32_t nfree, next_slot;
	uint32_t slots_dirty; /* slots from here on have never counted: their counters are zero */
	int ncpus;
};

/* attach_xdp.c / attach_tc.c: called inside the hook's namespace. */
int sl_attach_xdp(struct sl_dp_hook *h, struct sl_err *err);
void sl_detach_xdp(struct sl_dp_hook *h);
int sl_attach_tc(struct sl_dp_hook *h, struct sl_err *err);
void sl_detach_tc(struct sl_dp_hook *h);

/* Sizes the maps and disables the program this hook does not run. */
int sl_skel_prepare(struct sl_dp_hook *h, struct sl_err *err);
/* Once the object is loaded: maps the classifier's fast-path map. */
int sl_hook_loaded(struct sl_dp_hook *h, struct sl_err *err);

#endif
