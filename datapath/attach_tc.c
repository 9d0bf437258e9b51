// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * TC on the clsact qdisc through libbpf, at sluice's own priority and
 * handle. Another tool's filter is never replaced; the qdisc is removed on
 * detach only if sluice created it and nothing else uses it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hook_internal.h"
#include "inspect.h"
#include "netns.h"
#include "sl_log.h"
#include "tc_query.h"

/*
 * clsact qdiscs sluice created, shared by the ingress and egress hooks of an
 * interface: the last sluice hook to leave removes the qdisc, if it is empty.
 */
#define SL_MAX_OWNED_QDISCS 1024
static struct {
	uint64_t netns;
	int ifindex;
	int users;
} owned[SL_MAX_OWNED_QDISCS];

static int owned_find(uint64_t netns, int ifindex)
{
	for (int i = 0; i < SL_MAX_OWNED_QDISCS; i++)
		if (owned[i].users && owned[i].netns == netns && owned[i].ifindex == ifindex)
			return i;
	return -1;
}

/* Returns whether this hook shares ownership of the qdisc. */
static bool owned_take(int ifindex, bool created)
{
	uint64_t ns = 0;
	int i;

	sl_netns_self_ino(&ns);
	i = owned_find(ns, ifindex);
	if (i >= 0) {
		/* An entry with users means we made the qdisc that exists now. */
		owned[i].users++;
		return true;
	}
	if (!created)
		return false;
	for (i = 0; i < SL_MAX_OWNED_QDISCS && owned[i].users; i++)
		;
	if (i == SL_MAX_OWNED_QDISCS)
		return false; /* forget ownership rather than fail: the qdisc just stays */
	owned[i].netns = ns;
	owned[i].ifindex = ifindex;
	owned[i].users = 1;
	return true;
}

/* Returns whether this was the last sluice user of the qdisc. */
static bool owned_release(int ifindex)
{
	uint64_t ns = 0;
	int i;

	sl_netns_self_ino(&ns);
	i = owned_find(ns, ifindex);
	if (i < 0)
		return false;
	return --owned[i].users == 0;
}

static enum bpf_tc_attach_point attach_point(const struct sl_dp_hook *h)
{
	return h->kind == SL_HOOK_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

int sl_attach_tc(struct sl_dp_hook *h, struct sl_err *err)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex, .attach_point = attach_point(h));
	LIBBPF_OPTS(bpf_tc_opts, query, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIORITY);
	int rc;

	rc = bpf_tc_hook_create(&hook);
	if (rc && rc != -EEXIST)
		return sl_err_set(err, -rc, "cannot create clsact qdisc on %s: %s", h->ifname,
				  strerror(-rc));
	h->created_clsact = owned_take(h->ifindex, rc == 0);

	if (bpf_tc_query(&hook, &query) == 0) {
		char name[BPF_OBJ_NAME_LEN] = "?";

		sl_prog_name_by_id(query.prog_id, name, sizeof(name));
		if (strcmp(name, "sluice_tc")) {
			rc = sl_err_set(err, EBUSY,
					"%s %s: priority 0x%x handle 0x%x is taken by program '%s' (id %u), not sluice's",
					h->ifname, sl_hook_name(h->kind), SL_TC_PRIORITY,
					SL_TC_HANDLE, name, query.prog_id);
			goto fail;
		}
		/* A previous daemon's program: replaced in one step, so traffic never goes unfiltered. */
		sl_log(SL_LOG_INFO, "%s %s: taking over from the sluice filter in place (prog id %u)",
		       h->ifname, sl_hook_name(h->kind), query.prog_id);
		opts.flags = BPF_TC_F_REPLACE;
	}
	opts.prog_fd = bpf_program__fd(h->skel->progs.sluice_tc);
	rc = bpf_tc_attach(&hook, &opts);
	if (rc) {
		rc = sl_err_set(err, -rc, "cannot attach tc filter to %s: %s", h->ifname,
				strerror(-rc));
		goto fail;
	}
	h->prog_id = opts.prog_id;
	return 0;
fail:
	if (h->created_clsact && owned_release(h->ifindex) && sl_tc_filter_count(h->ifindex) == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return rc;
}

void sl_detach_tc(struct sl_dp_hook *h)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = h->ifindex, .attach_point = attach_point(h));
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIORITY);
	int rc;

	rc = bpf_tc_detach(&hook, &opts);
	if (rc && rc != -ENOENT && rc != -ENODEV && rc != -EINVAL)
		sl_log(SL_LOG_WARN, "%s: detaching tc filter: %s", h->ifname, strerror(-rc));
	/* Leave the interface as we found it: drop clsact only if we made it and it is empty. */
	if (h->created_clsact && owned_release(h->ifindex) && sl_tc_filter_count(h->ifindex) == 0) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
}
