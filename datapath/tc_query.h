/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Lists the tc filters on an interface's clsact hooks (rtnetlink dump). */
#ifndef SLUICE_TC_QUERY_H
#define SLUICE_TC_QUERY_H

#include <stdbool.h>
#include <stdint.h>

struct sl_tc_filter {
	bool egress;
	uint16_t priority;
	uint32_t handle;
	char kind[16];     /* "bpf", "u32", "flower", ... */
	char prog_name[64]; /* bpf filters: TCA_BPF_NAME */
	uint32_t prog_id;  /* bpf filters */
};

/* Fills up to max filters of ifindex in the current namespace; returns how many exist or -errno. */
int sl_tc_filters(int ifindex, struct sl_tc_filter *out, int max);
/* Filters on clsact ingress and egress, 0 when none or no qdisc. */
int sl_tc_filter_count(int ifindex);

#endif
