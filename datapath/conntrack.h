/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's one conntrack: the flow, fragment and configuration maps
 * every program instance shares (a flow's replies meet another instance
 * than its forward packets), their settings, expiry and listing.
 */
#ifndef SLUICE_DP_CONNTRACK_H
#define SLUICE_DP_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include "sl_err.h"
#include "sluice_abi.h"

struct sl_ct_opts {
	uint32_t max_flows;                  /* 0 = SL_DEFAULT_CT_ENTRIES / 2 */
	uint32_t timeout_s[SL_CT_NSTATES];   /* 0 = the default of that state */
	uint16_t port_lo, port_hi;           /* 0 = 32768-60999 */
	/*
	 * bpffs directory to pin the maps under, so flows survive a restart of
	 * the daemon; a later daemon takes them over. NULL: not pinned.
	 */
	const char *pin_root;
};

struct sl_dp_ct;

/* The state names the operator uses: tcp-syn, tcp-established, tcp-close, udp, icmp. */
const char *sl_ct_state_name(uint8_t state);
int sl_ct_state_parse(const char *text, uint8_t *state);
/* Parses "NAME=SECONDS" into opts; -EINVAL with a message otherwise. */
int sl_ct_timeout_parse(const char *text, struct sl_ct_opts *opts, struct sl_err *err);

int sl_dp_ct_new(const struct sl_ct_opts *opts, struct sl_dp_ct **out, struct sl_err *err);
void sl_dp_ct_free(struct sl_dp_ct *ct);
/* Removes the pins (the maps go when their last user does). */
void sl_dp_ct_unpin(const char *pin_root);

/* Map fds the loader hands to every instance (bpf_map__reuse_fd). */
int sl_dp_ct_flows_fd(const struct sl_dp_ct *ct);
int sl_dp_ct_frags_fd(const struct sl_dp_ct *ct);
int sl_dp_ct_config_fd(const struct sl_dp_ct *ct);
uint32_t sl_dp_ct_capacity(const struct sl_dp_ct *ct); /* entries: two per flow */

/* One flow as listed: its forward entry and, if still there, its reply entry. */
struct sl_ct_flow {
	struct sl_ct_key key;         /* the original tuple */
	struct sl_ct_val fwd;
	struct sl_ct_val reply;
	bool has_reply;
	uint64_t expires_ns;          /* until the flow times out, from now */
};

typedef int (*sl_ct_visit_fn)(const struct sl_ct_flow *flow, void *arg);

/* Calls fn for every live flow; stops at fn's first nonzero return and returns it. */
int sl_dp_ct_walk(struct sl_dp_ct *ct, sl_ct_visit_fn fn, void *arg);
/* Deletes expired flows (both entries); *removed counts flows. */
int sl_dp_ct_expire(struct sl_dp_ct *ct, unsigned int *removed);
/* Deletes the flows of rule_id, or every flow when rule_id is 0. */
int sl_dp_ct_flush(struct sl_dp_ct *ct, uint64_t rule_id, unsigned int *removed);

#endif
