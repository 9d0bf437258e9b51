/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What is attached to an interface's XDP and clsact hooks, by anyone. */
#ifndef SLUICE_INSPECT_H
#define SLUICE_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

struct sl_prog_info {
	char hook[16];  /* "xdp", "tc-ingress", "tc-egress" */
	char name[64];  /* program name, or the tc filter kind for non-BPF filters */
	uint32_t prog_id;
	int priority;   /* XDP run priority or tc filter priority; -1 for none */
	char mode[8];   /* XDP: "native", "skb", "hw"; "" otherwise */
	bool sluice;    /* one of sluice's own programs */
};

/* The name of a loaded BPF program; 0 or a negative errno. */
int sl_prog_name_by_id(uint32_t id, char *name, size_t len);

/* Fills up to max entries; returns how many were found or a negative errno. */
int sl_dp_inspect(const char *ifname, int netns_fd, struct sl_prog_info *out, int max,
		  struct sl_err *err);

#endif
