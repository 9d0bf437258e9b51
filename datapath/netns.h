/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Network namespaces named the way operators name them: a name under
 * /run/netns, "pid:PID" (a container's process), or a path to an nsfs file.
 * Only the network namespace is entered, with setns: `ip netns exec` would
 * also remount /sys and hide bpffs.
 */
#ifndef SLUICE_NETNS_H
#define SLUICE_NETNS_H

#include <stdint.h>

#include "sl_err.h"

/* Opens the namespace; *fd is -1 for an empty spec (our own namespace). */
int sl_netns_open(const char *spec, int *fd, struct sl_err *err);

/* Identity of a namespace, stable while it exists (nsfs inode). */
int sl_netns_ino(int fd, uint64_t *ino);
/* Identity of the namespace the process runs in now. */
int sl_netns_self_ino(uint64_t *ino);

/*
 * Finds a namespace by identity: ours (*fd = -1), one named under /run/netns,
 * or one a process is in. -ENOENT when none is.
 */
int sl_netns_open_by_ino(uint64_t ino, int *fd);

/* Switches into fd (no-op for -1); *saved restores it. */
int sl_netns_enter(int fd, int *saved, struct sl_err *err);
void sl_netns_leave(int saved);

/*
 * Sets a sysctl under /proc/sys/net inside fd's namespace (those files
 * belong to the namespace of whoever opens them). *was gets the old value's
 * first character. Returns 0 or a negative errno with err set.
 */
int sl_netns_sysctl_set(int fd, const char *path, const char *value, char *was,
			struct sl_err *err);

#endif
