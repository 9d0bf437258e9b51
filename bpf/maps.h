/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Maps of one sluice program instance. Every attach point (namespace,
 * interface, hook) loads its own instance, so rules never leak between them.
 */
#ifndef SLUICE_MAPS_H
#define SLUICE_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sluice_abi.h"

/* Masked packet fields -> rule; one entry per (rule, port block). IPv6 shapes here... */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_DEFAULT_KEYS);
	__type(key, struct sl_key);
	__type(value, struct sl_rule_val);
} sl_rules SEC(".maps");

/* ...the other shapes in the short-key form (see struct sl_key4). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SL_DEFAULT_KEYS);
	__type(key, struct sl_key4);
	__type(value, struct sl_rule_val);
} sl_rules4 SEC(".maps");

/* Classes, shape masks and prefilter; only user space writes it, through mmap. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_fastpath);
} sl_fast SEC(".maps");

/* Per-rule redirect parameters, indexed by the rule's slot (tc hooks only). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_DEFAULT_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_redirect);
} sl_redirects SEC(".maps");

/* Per-rule counters, indexed by the rule's slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_DEFAULT_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_counter);
} sl_counters SEC(".maps");

#endif
