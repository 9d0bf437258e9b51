// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP through libxdp's dispatcher, so sluice shares the interface with other
 * XDP programs. Native mode first, generic (skb) mode when the driver has none.
 * A sluice program a previous daemon left is replaced in one step.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "hook_internal.h"
#include "sl_log.h"

static uint32_t xdp_flags_of(enum xdp_attach_mode mode)
{
	return mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * A sluice program left by a previous daemon is ours to replace. Alone on
 * the interface (no dispatcher), the kernel swaps it for ours atomically
 * (XDP_FLAGS_REPLACE), so the datapath never runs without rules; *done
 * tells the caller. Inside a dispatcher it is taken out first.
 */
static int take_over(struct sl_dp_hook *h, bool *done, struct sl_err *err)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(h->ifindex);
	struct xdp_program *p = NULL;
	int rc = 0;

	*done = false;
	if (libxdp_get_error(mp) || !mp)
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
		enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
		int fd = sl_dp_hook_prog_fd(h);

		p = xdp_multiprog__main_prog(mp);
		if (!p || strcmp(xdp_program__name(p), "sluice_xdp"))
			goto out;
		opts.old_prog_fd = xdp_program__fd(p);
		if (bpf_xdp_attach(h->ifindex, fd, XDP_FLAGS_REPLACE | xdp_flags_of(mode), &opts)) {
			rc = sl_err_set(err, errno, "%s: cannot replace the sluice XDP program in place (id %u): %s",
					h->ifname, xdp_program__id(p), strerror(errno));
			goto out;
		}
		sl_log(SL_LOG_INFO, "%s: took over from the sluice XDP program in place (id %u)",
		       h->ifname, xdp_program__id(p));
		h->xdp = NULL;
		h->xdp_mode = mode;
		h->prog_id = prog_id_of(fd);
		*done = true;
		goto out;
	}
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (strcmp(xdp_program__name(p), "sluice_xdp"))
			continue;
		sl_log(SL_LOG_WARN, "%s: replacing a stale sluice XDP program in the dispatcher (id %u)",
		       h->ifname, xdp_program__id(p));
		xdp_program__detach(p, h->ifindex, xdp_multiprog__attach_mode(mp), 0);
		break; /* the multiprog is stale now; one per start is enough */
	}
out:
	xdp_multiprog__close(mp);
	return rc;
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

/* The program is loaded already (its maps hold the rules): libxdp gets it by fd. */
static int try_attach(struct sl_dp_hook *h, enum xdp_attach_mode mode)
{
	struct xdp_program *prog;
	int fd, rc;

	fd = fcntl(sl_dp_hook_prog_fd(h), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	prog = xdp_program__from_fd(fd);
	rc = (int)libxdp_get_error(prog);
	if (rc) {
		close(fd);
		return rc;
	}
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
	bool done;
	int rc;

	rc = take_over(h, &done, err);
	if (rc || done)
		return rc;
	rc = try_attach(h, XDP_MODE_NATIVE);
	if (rc && rc != -EEXIST && rc != -EBUSY) {
		sl_log(SL_LOG_INFO, "%s: native XDP unavailable (%s), using skb mode", h->ifname,
		       strerror(-rc));
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
	int rc;

	if (h->xdp) {
		rc = xdp_program__detach(h->xdp, h->ifindex, h->xdp_mode, 0);
	} else {
		/* Only if it is still ours: another tool may have attached since. */
		LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = sl_dp_hook_prog_fd(h));

		rc = bpf_xdp_detach(h->ifindex, XDP_FLAGS_REPLACE | xdp_flags_of(h->xdp_mode), &opts)
			     ? -errno
			     : 0;
	}
	if (rc && rc != -ENODEV && rc != -ENOENT)
		sl_log(SL_LOG_WARN, "%s: detaching XDP: %s", h->ifname, strerror(-rc));
}
