/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Redirect targets as operators name them, checked and resolved against
 * the interfaces of the hook's namespace before any rule changes.
 */
#ifndef SLUICE_DP_REDIRECT_H
#define SLUICE_DP_REDIRECT_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "hook.h"
#include "sl_err.h"
#include "sluice_abi.h"

struct sl_redirect_spec {
	char to[IF_NAMESIZE]; /* may be empty for route only */
	uint8_t mode;         /* SL_REDIR_* */
	bool has_dst_mac, has_src_mac;
	uint8_t dst_mac[6], src_mac[6];
};

const char *sl_redirect_mode_name(uint8_t mode);
int sl_redirect_mode_parse(const char *text, uint8_t *mode, struct sl_err *err);

/*
 * Checks spec for a rule on ifname's hook inside netns_fd (-1: our own
 * namespace) and fills *out: the target's index, and the MACs to write.
 * For egress and peer to a veth the destination MAC defaults to the veth
 * peer's and the source MAC to the target's; for ingress the destination
 * MAC defaults to the target's own, so the stack takes the frame as its own.
 * For route, the FIB must answer for the families (4, 6, 0 = both) the
 * rule can match: forwarding on ifname or on lo (see bpf/redirect.h).
 */
int sl_redirect_resolve(int netns_fd, const char *ifname, enum sl_hook_kind hook,
			int family, const struct sl_redirect_spec *spec, struct sl_redirect *out,
			struct sl_err *err);

#endif
