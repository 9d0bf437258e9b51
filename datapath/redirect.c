// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "link.h"
#include "netns.h"
#include "redirect.h"

static const char *const mode_names[] = {
	[SL_REDIR_EGRESS] = "egress", [SL_REDIR_INGRESS] = "ingress", [SL_REDIR_NEIGH] = "neigh",
	[SL_REDIR_PEER] = "peer",     [SL_REDIR_ROUTE] = "route",
};

const char *sl_redirect_mode_name(uint8_t mode)
{
	if (mode < SL_REDIR_EGRESS || mode > SL_REDIR_ROUTE)
		return "?";
	return mode_names[mode];
}

int sl_redirect_mode_parse(const char *text, uint8_t *mode, struct sl_err *err)
{
	for (uint8_t m = SL_REDIR_EGRESS; m <= SL_REDIR_ROUTE; m++) {
		if (!strcmp(text, mode_names[m])) {
			*mode = m;
			return 0;
		}
	}
	return sl_err_set(err, EINVAL,
			  "'%s' is not a redirect mode (egress, ingress, neigh, peer or route)", text);
}

/* The veth peer's MAC, wherever the peer lives; -ENOENT when it is not a veth. */
static int veth_peer_mac(const struct sl_link *target, uint8_t mac[6])
{
	struct sl_link peer;
	int rc;

	if (strcmp(target->kind, "veth") || !target->link_ifindex)
		return -ENOENT;
	rc = sl_link_by_index(target->link_ifindex, target->link_netnsid, &peer);
	if (rc)
		return rc;
	if (!peer.has_mac)
		return -ENOENT;
	memcpy(mac, peer.mac, 6);
	return 0;
}

/* The forwarding sysctl of dev for family, in the current namespace: 1, 0, or -errno. */
static int forwarding(int family, const char *dev)
{
	char path[96], val = '0';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv%d/conf/%s/forwarding", family, dev);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fread(&val, 1, 1, f) != 1)
		val = '0';
	fclose(f);
	return val != '0';
}

/*
 * bpf_fib_lookup answers only for an interface with forwarding enabled; the
 * program asks for ifname, then for lo. Say so now rather than count every
 * packet as a fallback later.
 */
static int check_fib_usable(const char *ifname, int family, struct sl_err *err)
{
	for (int fam = 4; fam <= 6; fam += 2) {
		if (family && family != fam)
			continue;
		if (forwarding(fam, ifname) == 1 || forwarding(fam, "lo") == 1)
			continue;
		return sl_err_set(err, EINVAL,
				  "route mode needs IPv%d forwarding on %s (sysctl net.ipv%d.conf.%s.forwarding=1, the kernel then forwards too) or on lo (net.ipv%d.conf.lo.forwarding=1: only rules route)",
				  fam, ifname, fam, ifname, fam);
	}
	return 0;
}

static int resolve_here(const char *ifname, enum sl_hook_kind hook, int family,
			const struct sl_redirect_spec *spec, struct sl_redirect *out,
			struct sl_err *err)
{
	struct sl_link target = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	out->mode = spec->mode;
	if (hook == SL_HOOK_XDP)
		return sl_err_set(err, EINVAL,
				  "redirect rules run on tc hooks: use --hook tc-ingress or tc-egress");
	if (spec->mode == SL_REDIR_PEER && hook != SL_HOOK_TC_INGRESS)
		return sl_err_set(err, EINVAL,
				  "peer mode works from tc-ingress only (bpf_redirect_peer)");
	if (!spec->to[0]) {
		if (spec->mode != SL_REDIR_ROUTE)
			return sl_err_set(err, EINVAL, "%s mode needs a target interface (to)",
					  sl_redirect_mode_name(spec->mode));
	} else {
		rc = sl_link_by_name(spec->to, &target);
		if (rc == -ENODEV)
			return sl_err_set(err, ENODEV,
					  "no interface '%s' in the namespace of %s (a redirect target must be in the same network namespace)",
					  spec->to, ifname);
		if (rc)
			return sl_err_set(err, -rc, "cannot look up '%s': %s", spec->to,
					  strerror(-rc));
		out->ifindex = (uint32_t)target.ifindex;
	}

	switch (spec->mode) {
	case SL_REDIR_ROUTE:
		rc = check_fib_usable(ifname, family, err);
		if (rc)
			return rc;
		break;
	case SL_REDIR_PEER:
		if (strcmp(target.kind, "veth"))
			return sl_err_set(err, EINVAL,
					  "peer mode needs a veth target; '%s' is %s%s", spec->to,
					  target.kind[0] ? "a " : "not a veth", target.kind);
		if (target.link_netnsid < 0)
			return sl_err_set(err, EINVAL,
					  "peer mode needs the peer of veth '%s' in another network namespace; it is in this one",
					  spec->to);
		/* fall through */
	case SL_REDIR_EGRESS:
		if (veth_peer_mac(&target, out->dmac) == 0)
			out->flags |= SL_REDIR_SET_DMAC;
		if (target.has_mac && (out->flags & SL_REDIR_SET_DMAC)) {
			memcpy(out->smac, target.mac, 6);
			out->flags |= SL_REDIR_SET_SMAC;
		}
		break;
	case SL_REDIR_INGRESS:
		if (target.has_mac) {
			memcpy(out->dmac, target.mac, 6);
			out->flags |= SL_REDIR_SET_DMAC;
		}
		break;
	}
	if (spec->has_dst_mac) {
		memcpy(out->dmac, spec->dst_mac, 6);
		out->flags |= SL_REDIR_SET_DMAC;
	}
	if (spec->has_src_mac) {
		memcpy(out->smac, spec->src_mac, 6);
		out->flags |= SL_REDIR_SET_SMAC;
	}
	return 0;
}

int sl_redirect_resolve(int netns_fd, const char *ifname, enum sl_hook_kind hook,
			int family, const struct sl_redirect_spec *spec, struct sl_redirect *out,
			struct sl_err *err)
{
	int saved, rc;

	if (spec->mode < SL_REDIR_EGRESS || spec->mode > SL_REDIR_ROUTE)
		return sl_err_set(err, EINVAL, "unknown redirect mode");
	rc = sl_netns_enter(netns_fd, &saved, err);
	if (rc)
		return rc;
	rc = resolve_here(ifname, hook, family, spec, out, err);
	sl_netns_leave(saved);
	return rc;
}
