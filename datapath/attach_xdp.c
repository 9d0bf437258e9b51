// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP through libxdp's dispatcher, so sluice shares the interface with other
 * XDP programs. Native mode first, generic (skb) mode when the driver has none.
 */
#include <errno.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hook_internal.h"
#include "sl_log.h"

/* A sluice program left by a daemon that died is ours to replace. */
static void remove_stale(struct sl_dp_hook *h)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(h->ifindex);
	struct xdp_program *p = NULL;

	if (libxdp_get_error(mp) || !mp)
		return;
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), "sluice_xdp")) {
			sl_log(SL_LOG_WARN, "%s: replacing a stale sluice XDP program (id %u)",
			       h->ifname, xdp_program__id(p));
			xdp_program__detach(p, h->ifindex, xdp_multiprog__attach_mode(mp), 0);
		}
		goto out;
	}
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (strcmp(xdp_program__name(p), "sluice_xdp"))
			continue;
		sl_log(SL_LOG_WARN, "%s: replacing a stale sluice XDP program (id %u)", h->ifname,
		       xdp_program__id(p));
		xdp_program__detach(p, h->ifindex, xdp_multiprog__attach_mode(mp), 0);
		break; /* the multiprog is stale now; one per start is enough */
	}
out:
	xdp_multiprog__close(mp);
}

static void log_dispatcher_use(const struct sl_dp_hook *h)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(h->ifindex);

	if (!mp || libxdp_get_error(mp))
		return;
	if (xdp_multiprog__is_legacy(mp))
		sl_log(SL_LOG_INFO,
		       "%s: libxdp's dispatcher is unavailable (this kernel refuses freplace programs); sluice's XDP program runs alone on it",
		       h->ifname);
	xdp_multiprog__close(mp);
}

static int try_attach(struct sl_dp_hook *h, enum xdp_attach_mode mode)
{
	struct xdp_program *prog;
	int rc;

	prog = xdp_program__from_bpf_obj(h->skel->obj, "xdp");
	rc = (int)libxdp_get_error(prog);
	if (rc)
		return rc;
	/* libxdp probes its dispatcher and falls back on its own; we report the outcome. */
	sl_log_quiet_libs(true);
	rc = xdp_program__attach(prog, h->ifindex, mode, 0);
	sl_log_quiet_libs(false);
	if (rc) {
		xdp_program__close(prog);
		return rc;
	}
	h->xdp = prog;
	h->xdp_mode = mode;
	h->prog_id = xdp_program__id(prog);
	return 0;
}

int sl_attach_xdp(struct sl_dp_hook *h, struct sl_err *err)
{
	int rc;

	remove_stale(h);
	rc = try_attach(h, XDP_MODE_NATIVE);
	if (rc) {
		sl_log(SL_LOG_INFO, "%s: native XDP unavailable (%s), using skb mode", h->ifname,
		       strerror(-rc));
		/* A failed load leaves the object unusable: start from a fresh one. */
		sluice_bpf__destroy(h->skel);
		h->skel = sluice_bpf__open();
		if (!h->skel)
			return sl_err_set(err, errno, "cannot open BPF object: %s", strerror(errno));
		rc = sl_skel_prepare(h, err);
		if (rc)
			return rc;
		rc = try_attach(h, XDP_MODE_SKB);
	}
	if (rc == -EEXIST || rc == -EBUSY)
		return sl_err_set(err, EBUSY,
				  "%s already has an XDP program attached without libxdp's dispatcher; sluice will not replace it",
				  h->ifname);
	if (rc)
		return sl_err_set(err, -rc, "cannot attach XDP to %s: %s", h->ifname, strerror(-rc));
	log_dispatcher_use(h);
	return 0;
}

void sl_detach_xdp(struct sl_dp_hook *h)
{
	int rc = xdp_program__detach(h->xdp, h->ifindex, h->xdp_mode, 0);

	if (rc && rc != -ENODEV && rc != -ENOENT)
		sl_log(SL_LOG_WARN, "%s: detaching XDP: %s", h->ifname, strerror(-rc));
}
