/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What sluice keeps on bpffs so the datapath outlives the daemon: under the
 * daemon's pin root, the shared conntrack maps, and one directory per attach
 * point (hooks/NETNS-IFINDEX-HOOK) with the program and its rule counters.
 * A new daemon takes them over; classifier maps are rebuilt from the state
 * file and swapped in with the program.
 */
#ifndef SLUICE_PIN_H
#define SLUICE_PIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "sl_err.h"

#define SL_PIN_HOOKS "hooks"

/*
 * Makes map use the map pinned at path when its type, key, value, size and
 * flags match. Returns 0 when reused, -ENOENT when nothing is pinned there,
 * -ESTALE when the pinned map has another layout (an upgrade changed it).
 */
int sl_pin_map_reuse(const char *path, struct bpf_map *map);
/* Like sl_pin_map_reuse for a map created by hand: returns the pinned map's fd or -errno. */
int sl_pin_map_get(const char *path, uint32_t type, uint32_t key_size, uint32_t value_size,
		   uint32_t max_entries, uint32_t flags);
/* Pins fd at path, replacing whatever was pinned there. */
int sl_pin_fd(int fd, const char *path);

/* The directory of one attach point; kind is the hook's name ("xdp", ...). */
int sl_pin_hook_dir(const char *root, uint32_t netns_ino, int ifindex, const char *kind,
		    char *buf, size_t len);
/* Removes dir's pins and dir itself. */
void sl_pin_remove_dir(const char *dir);

/*
 * Hook directories under root that keep() does not claim: their programs
 * are detached (when still attached where the name says) and their pins
 * removed. Returns how many were removed.
 */
typedef bool (*sl_pin_keep_fn)(const char *dir, void *arg);
int sl_pin_sweep_hooks(const char *root, sl_pin_keep_fn keep, void *arg);

/* Whether root holds any hook directory: a datapath some daemon left in place. */
bool sl_pin_has_hooks(const char *root);

#endif
