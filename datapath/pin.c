// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>

#include "hook.h"
#include "netns.h"
#include "pin.h"
#include "sl_log.h"

static int pinned_map_info(const char *path, struct bpf_map_info *info, int *fd_out)
{
	uint32_t len = sizeof(*info);
	int fd = bpf_obj_get(path);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	memset(info, 0, sizeof(*info));
	if (bpf_obj_get_info_by_fd(fd, info, &len)) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

int sl_pin_map_get(const char *path, uint32_t type, uint32_t key_size, uint32_t value_size,
		   uint32_t max_entries, uint32_t flags)
{
	struct bpf_map_info info;
	int fd = -1, rc = pinned_map_info(path, &info, &fd);

	if (rc)
		return rc;
	if (info.type != type || info.key_size != key_size || info.value_size != value_size ||
	    info.max_entries != max_entries || info.map_flags != flags) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

int sl_pin_map_reuse(const char *path, struct bpf_map *map)
{
	int fd = sl_pin_map_get(path, bpf_map__type(map), bpf_map__key_size(map),
				bpf_map__value_size(map), bpf_map__max_entries(map),
				bpf_map__map_flags(map));
	int rc;

	if (fd < 0)
		return fd;
	rc = bpf_map__reuse_fd(map, fd);
	close(fd);
	return rc;
}

int sl_pin_fd(int fd, const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

int sl_pin_hook_dir(const char *root, uint32_t netns_ino, int ifindex, const char *kind,
		    char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%u-%d-%s", root, SL_PIN_HOOKS, netns_ino, ifindex, kind);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

void sl_pin_remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path) &&
		    unlink(path))
			sl_log(SL_LOG_WARN, "cannot remove pin %s: %s", path, strerror(errno));
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT)
		sl_log(SL_LOG_WARN, "cannot remove %s: %s", dir, strerror(errno));
}

static uint32_t pinned_prog_id(const char *dir, int *fd_out)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	*fd_out = -1;
	if (snprintf(path, sizeof(path), "%s/prog", dir) >= (int)sizeof(path))
		return 0;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		close(fd);
		return 0;
	}
	*fd_out = fd;
	return info.id;
}

/* Inside the hook's namespace: takes our program off, if it is still the one attached. */
static void detach_orphan(int ifindex, enum sl_hook_kind kind, uint32_t prog_id, int prog_fd)
{
	if (kind == SL_HOOK_XDP) {
		LIBBPF_OPTS(bpf_xdp_query_opts, q);
		LIBBPF_OPTS(bpf_xdp_attach_opts, a, .old_prog_fd = prog_fd);
		uint32_t flags = XDP_FLAGS_REPLACE;

		if (bpf_xdp_query(ifindex, 0, &q))
			return;
		if (q.drv_prog_id == prog_id)
			flags |= XDP_FLAGS_DRV_MODE;
		else if (q.skb_prog_id == prog_id)
			flags |= XDP_FLAGS_SKB_MODE;
		else
			return;
		if (bpf_xdp_detach(ifindex, flags, &a))
			sl_log(SL_LOG_WARN, "ifindex %d: cannot detach orphaned XDP program %u: %s",
			       ifindex, prog_id, strerror(errno));
		return;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = kind == SL_HOOK_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = SL_TC_HANDLE, .priority = SL_TC_PRIORITY);

	if (bpf_tc_query(&hook, &opts) || opts.prog_id != prog_id)
		return;
	opts.prog_id = 0;
	opts.prog_fd = 0;
	opts.flags = 0;
	if (bpf_tc_detach(&hook, &opts))
		sl_log(SL_LOG_WARN, "ifindex %d: cannot detach orphaned tc program %u", ifindex,
		       prog_id);
}

static void sweep_one(const char *dir, const char *name)
{
	struct sl_err err = { 0 };
	enum sl_hook_kind kind;
	unsigned int ino;
	char kname[16];
	int ifindex, nsfd = -1, saved, prog_fd;
	uint32_t prog_id = pinned_prog_id(dir, &prog_fd);

	if (prog_id && sscanf(name, "%u-%d-%15s", &ino, &ifindex, kname) == 3 &&
	    !sl_hook_parse(kname, &kind) && !sl_netns_open_by_ino(ino, &nsfd)) {
		if (!sl_netns_enter(nsfd, &saved, &err)) {
			detach_orphan(ifindex, kind, prog_id, prog_fd);
			sl_netns_leave(saved);
		}
		if (nsfd >= 0)
			close(nsfd);
	}
	if (prog_fd >= 0)
		close(prog_fd);
	sl_log(SL_LOG_INFO, "removed orphaned attach point %s (no rule uses it)", name);
	sl_pin_remove_dir(dir);
}

int sl_pin_sweep_hooks(const char *root, sl_pin_keep_fn keep, void *arg)
{
	char hooks[PATH_MAX], dir[PATH_MAX];
	struct dirent *e;
	int removed = 0;
	DIR *d;

	if (snprintf(hooks, sizeof(hooks), "%s/%s", root, SL_PIN_HOOKS) >= (int)sizeof(hooks))
		return -ENAMETOOLONG;
	d = opendir(hooks);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (snprintf(dir, sizeof(dir), "%s/%s", hooks, e->d_name) >= (int)sizeof(dir))
			continue;
		if (keep && keep(dir, arg))
			continue;
		sweep_one(dir, e->d_name);
		removed++;
	}
	closedir(d);
	return removed;
}

bool sl_pin_has_hooks(const char *root)
{
	char hooks[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	if (snprintf(hooks, sizeof(hooks), "%s/%s", root, SL_PIN_HOOKS) >= (int)sizeof(hooks))
		return false;
	d = opendir(hooks);
	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = e->d_name[0] != '.';
	closedir(d);
	return found;
}
