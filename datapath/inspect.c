// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "inspect.h"
#include "netns.h"
#include "tc_query.h"

#define SL_MAX_TC_SEEN 64

static const char *mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE: return "native";
	case XDP_MODE_SKB: return "skb";
	case XDP_MODE_HW: return "hw";
	default: return "";
	}
}

static void add(struct sl_prog_info *out, int max, int *n, const char *hook, const char *name,
		uint32_t id, int prio, const char *mode)
{
	if (*n < max) {
		struct sl_prog_info *p = &out[*n];

		snprintf(p->hook, sizeof(p->hook), "%s", hook);
		snprintf(p->name, sizeof(p->name), "%s", name);
		p->prog_id = id;
		p->priority = prio;
		snprintf(p->mode, sizeof(p->mode), "%s", mode);
		p->sluice = !strncmp(name, "sluice_", 7);
	}
	(*n)++;
}

int sl_prog_name_by_id(uint32_t id, char *name, size_t len)
{
	struct bpf_prog_info info = { 0 };
	uint32_t info_len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), rc;

	if (fd < 0)
		return -errno;
	rc = bpf_obj_get_info_by_fd(fd, &info, &info_len);
	close(fd);
	if (rc || !info.name[0])
		return rc ? rc : -ENOENT;
	snprintf(name, len, "%s", info.name);
	return 0;
}

static void inspect_xdp(int ifindex, struct sl_prog_info *out, int max, int *n)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL, *main_prog;
	const char *mode;

	if (!mp || libxdp_get_error(mp))
		return;
	mode = mode_name(xdp_multiprog__attach_mode(mp));
	main_prog = xdp_multiprog__main_prog(mp);
	if (main_prog)
		add(out, max, n, "xdp", xdp_program__name(main_prog), xdp_program__id(main_prog),
		    -1, mode);
	if (!xdp_multiprog__is_legacy(mp)) {
		while ((p = xdp_multiprog__next_prog(p, mp)))
			add(out, max, n, "xdp", xdp_program__name(p), xdp_program__id(p),
			    (int)xdp_program__run_prio(p), mode);
	}
	xdp_multiprog__close(mp);
}

int sl_dp_inspect(const char *ifname, int netns_fd, struct sl_prog_info *out, int max,
		  struct sl_err *err)
{
	struct sl_tc_filter filters[SL_MAX_TC_SEEN];
	int saved, ifindex, nf, n = 0, rc;

	rc = sl_netns_enter(netns_fd, &saved, err);
	if (rc)
		return rc;
	ifindex = (int)if_nametoindex(ifname);
	if (!ifindex) {
		sl_netns_leave(saved);
		return sl_err_set(err, ENODEV, "no interface '%s'", ifname);
	}
	inspect_xdp(ifindex, out, max, &n);
	nf = sl_tc_filters(ifindex, filters, SL_MAX_TC_SEEN);
	for (int i = 0; i < nf && i < SL_MAX_TC_SEEN; i++) {
		struct sl_tc_filter *f = &filters[i];
		char name[BPF_OBJ_NAME_LEN];

		/* tc's own label is often the object file's name; the program's is clearer. */
		if (!f->prog_id || sl_prog_name_by_id(f->prog_id, name, sizeof(name)))
			snprintf(name, sizeof(name), "%.*s", (int)sizeof(name) - 1,
				 f->prog_name[0] ? f->prog_name : f->kind);
		add(out, max, &n, f->egress ? "tc-egress" : "tc-ingress", name, f->prog_id,
		    f->priority, "");
	}
	sl_netns_leave(saved);
	return n;
}
