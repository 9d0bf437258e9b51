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

/* Set by the loader before load: what this instance is attached to. */
const volatile __u32 sl_cfg_zone;    /* conntrack zone: the hook's network namespace */
const volatile __u32 sl_cfg_ingress; /* 1 on tc ingress (and XDP), 0 on tc egress */

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

/* Per-rule translations of rewrite rules, indexed by the rule's slot (tc hooks only). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SL_DEFAULT_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_nat_rule);
} sl_nat_rules SEC(".maps");

/*
 * Conntrack, fragments and their configuration are one set per daemon: the
 * loader hands every instance the same maps, since a flow's replies arrive
 * at another hook than its forward packets.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_DEFAULT_CT_ENTRIES);
	__type(key, struct sl_ct_key);
	__type(value, struct sl_ct_val);
} sl_conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SL_DEFAULT_FRAG_ENTRIES);
	__type(key, struct sl_frag_key);
	__type(value, struct sl_ct_key);
} sl_frags SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_ct_config);
} sl_ct_cfg SEC(".maps");

/*
 * Per-CPU room the stack (512 bytes over all calls) cannot spare: the
 * conntrack entry being built, and the redirect a translated packet takes
 * next, which the program's main function carries out.
 */
struct sl_scratch {
	struct sl_ct_val entry;
	struct sl_redirect redirect;
	__u32 slot; /* whose counters the redirect's failures go to; SL_NO_SLOT: none */
};

#define SL_NO_SLOT 0xffffffffu

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sl_scratch);
} sl_scratch SEC(".maps");

/* Per-rule counters, indexed by the rule's slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SL_DEFAULT_RULE_SLOTS);
	__type(key, __u32);
	__type(value, struct sl_counter);
} sl_counters SEC(".maps");

#endif
