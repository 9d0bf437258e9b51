// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "conntrack.h"
#include "hook_internal.h"
#include "keyset.h"
#include "netns.h"
#include "pin.h"
#include "sl_log.h"

static const char *const hook_names[] = {
	[SL_HOOK_XDP] = "xdp",
	[SL_HOOK_TC_INGRESS] = "tc-ingress",
	[SL_HOOK_TC_EGRESS] = "tc-egress",
};

const char *sl_hook_name(enum sl_hook_kind kind)
{
	return hook_names[kind];
}

int sl_hook_parse(const char *text, enum sl_hook_kind *kind)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(text, hook_names[i])) {
			*kind = (enum sl_hook_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Counters a previous daemon left for this attach point carry on counting. */
static int keep_counters(struct sl_dp_hook *h)
{
	char path[PATH_MAX + 16];
	int rc;

	snprintf(path, sizeof(path), "%s/counters", h->pin_dir);
	rc = sl_pin_map_reuse(path, h->skel->maps.sl_counters);
	h->counters_kept = rc == 0;
	if (rc == -ESTALE)
		sl_log(SL_LOG_WARN, "%s %s: pinned counters have another layout (rule slots or version changed); counting from zero",
		       h->ifname, sl_hook_name(h->kind));
	return rc == -ENOENT || rc == -ESTALE ? 0 : rc;
}

int sl_skel_prepare(struct sl_dp_hook *h, struct sl_err *err)
{
	struct sluice_bpf *s = h->skel;
	int rc;

	rc = bpf_map__set_max_entries(s->maps.sl_counters, h->nslots);
	/* XDP hooks hold drop rules only. */
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_redirects,
					      h->kind == SL_HOOK_XDP ? 1 : h->nslots);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_nat_rules,
					      h->kind == SL_HOOK_XDP ? 1 : h->nslots);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_rules, h->nslots * 4);
	if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_rules4, h->nslots * 4);
	/* One conntrack for all instances; without it, a token private one. */
	if (!rc && h->ct)
		rc = bpf_map__reuse_fd(s->maps.sl_conntrack, sl_dp_ct_flows_fd(h->ct));
	else if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_conntrack, 2);
	if (!rc && h->ct)
		rc = bpf_map__reuse_fd(s->maps.sl_frags, sl_dp_ct_frags_fd(h->ct));
	else if (!rc)
		rc = bpf_map__set_max_entries(s->maps.sl_frags, 2);
	if (!rc && h->ct)
		rc = bpf_map__reuse_fd(s->maps.sl_ct_cfg, sl_dp_ct_config_fd(h->ct));
	if (!rc && h->pin_dir[0])
		rc = keep_counters(h);
	s->rodata->sl_cfg_zone = h->zone;
	s->rodata->sl_cfg_ingress = h->kind != SL_HOOK_TC_EGRESS;
	if (!rc)
		rc = bpf_program__set_autoload(h->kind == SL_HOOK_XDP ? s->progs.sluice_tc
								 : s->progs.sluice_xdp,
					       false);
	if (rc)
		return sl_err_set(err, -rc, "cannot prepare BPF object: %s", strerror(-rc));
	return 0;
}

static void hook_free(struct sl_dp_hook *h)
{
	sl_fast_close(&h->fast);
	if (h->xdp)
		xdp_program__close(h->xdp);
	sluice_bpf__destroy(h->skel);
	sl_keyindex_free(h->keys);
	free(h->slot_match);
	free(h->slot_used);
	free(h->slot_action);
	free(h->free_slots);
	if (h->netns_fd >= 0)
		close(h->netns_fd);
	free(h);
}

static struct sl_dp_hook *hook_alloc(enum sl_hook_kind kind, const struct sl_dp_opts *opts)
{
	struct sl_dp_hook *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->kind = kind;
	h->netns_fd = -1;
	h->nslots = opts && opts->rule_slots ? opts->rule_slots : SL_DEFAULT_RULE_SLOTS;
	h->ct = opts ? opts->ct : NULL;
	h->ncpus = libbpf_num_possible_cpus();
	h->keys = sl_keyindex_new();
	h->slot_match = calloc(h->nslots, sizeof(*h->slot_match));
	h->slot_used = calloc(h->nslots, sizeof(*h->slot_used));
	h->slot_action = calloc(h->nslots, sizeof(*h->slot_action));
	h->free_slots = calloc(h->nslots, sizeof(*h->free_slots));
	if (h->ncpus <= 0 || !h->keys || !h->slot_match || !h->slot_used || !h->slot_action ||
	    !h->free_slots) {
		hook_free(h);
		return NULL;
	}
	return h;
}

/* Opens, sizes and loads the BPF object: programs and maps exist, nothing is attached. */
static int hook_load(struct sl_dp_hook *h, struct sl_err *err)
{
	int rc;

	h->skel = sluice_bpf__open();
	if (!h->skel)
		return sl_err_set(err, errno, "cannot open BPF object: %s", strerror(errno));
	rc = sl_skel_prepare(h, err);
	if (rc)
		return rc;
	rc = sluice_bpf__load(h->skel);
	if (rc)
		return sl_err_set(err, -rc, "cannot load BPF programs: %s", strerror(-rc));
	return sl_hook_loaded(h, err);
}

int sl_dp_hook_open_detached(enum sl_hook_kind kind, const struct sl_dp_opts *opts,
			     struct sl_dp_hook **out, struct sl_err *err)
{
	struct sl_dp_hook *h = hook_alloc(kind, opts);
	int rc;

	if (!h)
		return sl_err_set(err, ENOMEM, "out of memory");
	rc = hook_load(h, err);
	if (rc) {
		hook_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

int sl_dp_hook_prog_fd(const struct sl_dp_hook *h)
{
	return bpf_program__fd(h->kind == SL_HOOK_XDP ? h->skel->progs.sluice_xdp
						      : h->skel->progs.sluice_tc);
}

int sl_dp_hook_prepare(const char *ifname, int netns_fd, enum sl_hook_kind kind,
		       const struct sl_dp_opts *opts, struct sl_dp_hook **out, struct sl_err *err)
{
	struct sl_dp_hook *h;
	uint64_t ino = 0;
	int saved, rc;

	if (strlen(ifname) >= IF_NAMESIZE)
		return sl_err_set(err, EINVAL, "interface name '%s' is too long", ifname);
	h = hook_alloc(kind, opts);
	if (!h)
		return sl_err_set(err, ENOMEM, "out of memory");
	snprintf(h->ifname, sizeof(h->ifname), "%s", ifname);
	if (netns_fd >= 0) {
		h->netns_fd = fcntl(netns_fd, F_DUPFD_CLOEXEC, 0);
		if (h->netns_fd < 0) {
			rc = sl_err_set(err, errno, "dup: %s", strerror(errno));
			hook_free(h);
			return rc;
		}
	}

	rc = sl_netns_enter(h->netns_fd, &saved, err);
	if (rc) {
		hook_free(h);
		return rc;
	}
	h->ifindex = (int)if_nametoindex(ifname);
	sl_netns_leave(saved);
	/* The namespace's nsfs inode: unique while it lives, and 32 bits wide in practice. */
	if (h->netns_fd >= 0 ? sl_netns_ino(h->netns_fd, &ino) : sl_netns_self_ino(&ino))
		ino = 0;
	h->zone = (uint32_t)ino;
	if (!h->ifindex) {
		rc = sl_err_set(err, ENODEV, "no interface '%s'%s", ifname,
				netns_fd >= 0 ? " in that network namespace" : "");
		goto fail;
	}
	if (opts && opts->pin_root &&
	    sl_pin_hook_dir(opts->pin_root, h->zone, h->ifindex, sl_hook_name(kind), h->pin_dir,
			    sizeof(h->pin_dir))) {
		rc = sl_err_set(err, ENAMETOOLONG, "pin directory under %s is too long",
				opts->pin_root);
		goto fail;
	}
	rc = hook_load(h, err);
	if (rc)
		goto fail;
	*out = h;
	return 0;
fail:
	hook_free(h);
	return rc;
}

/* The program and counters outlive the daemon under the hook's pin directory. */
static void pin_hook(struct sl_dp_hook *h)
{
	char path[PATH_MAX + 16];
	int rc;

	if (!h->pin_dir[0])
		return;
	/* The parent (ROOT/hooks) first; the daemon made ROOT. */
	snprintf(path, sizeof(path), "%s", h->pin_dir);
	if (strrchr(path, '/'))
		*strrchr(path, '/') = '\0';
	if ((mkdir(path, 0700) && errno != EEXIST) || (mkdir(h->pin_dir, 0700) && errno != EEXIST)) {
		sl_log(SL_LOG_WARN, "cannot create %s: %s; this hook will not survive a restart",
		       h->pin_dir, strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/counters", h->pin_dir);
	rc = sl_pin_fd(bpf_map__fd(h->skel->maps.sl_counters), path);
	if (!rc) {
		snprintf(path, sizeof(path), "%s/prog", h->pin_dir);
		rc = sl_pin_fd(sl_dp_hook_prog_fd(h), path);
	}
	if (rc)
		sl_log(SL_LOG_WARN, "cannot pin %s: %s; this hook will not survive a restart", path,
		       strerror(-rc));
}

int sl_dp_hook_attach(struct sl_dp_hook *h, struct sl_err *err)
{
	int saved, rc;

	rc = sl_netns_enter(h->netns_fd, &saved, err);
	if (rc)
		return rc;
	rc = h->kind == SL_HOOK_XDP ? sl_attach_xdp(h, err) : sl_attach_tc(h, err);
	sl_netns_leave(saved);
	if (rc)
		return rc;
	h->attached = true;
	pin_hook(h);
	sl_log(SL_LOG_INFO, "attached %s on %s (ifindex %d, prog id %u%s%s)", sl_hook_name(h->kind),
	       h->ifname, h->ifindex, h->prog_id, h->kind == SL_HOOK_XDP ? ", mode " : "",
	       sl_dp_hook_xdp_mode(h));
	return 0;
}

int sl_dp_hook_open(const char *ifname, int netns_fd, enum sl_hook_kind kind,
		    const struct sl_dp_opts *opts, struct sl_dp_hook **out, struct sl_err *err)
{
	struct sl_dp_hook *h;
	int rc = sl_dp_hook_prepare(ifname, netns_fd, kind, opts, &h, err);

	if (rc)
		return rc;
	rc = sl_dp_hook_attach(h, err);
	if (rc) {
		hook_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

bool sl_dp_hook_counters_kept(const struct sl_dp_hook *h)
{
	return h->counters_kept;
}

const char *sl_dp_hook_pin_dir(const struct sl_dp_hook *h)
{
	return h->pin_dir;
}

void sl_dp_hook_release(struct sl_dp_hook *h)
{
	if (h)
		hook_free(h);
}

void sl_dp_hook_close(struct sl_dp_hook *h)
{
	struct sl_err err = { 0 };
	int saved;

	if (!h)
		return;
	if (!h->attached) { /* loaded only: nothing in place */
		hook_free(h);
		return;
	}
	if (h->pin_dir[0])
		sl_pin_remove_dir(h->pin_dir);
	if (sl_netns_enter(h->netns_fd, &saved, &err) == 0) {
		if (h->kind == SL_HOOK_XDP)
			sl_detach_xdp(h);
		else
			sl_detach_tc(h);
		sl_netns_leave(saved);
		sl_log(SL_LOG_INFO, "detached %s from %s", sl_hook_name(h->kind), h->ifname);
	} else {
		sl_log(SL_LOG_WARN, "%s: %s; its programs go with it", h->ifname, err.msg);
	}
	hook_free(h);
}

/* Finds the slot of an equal shape, or a free one; -1 when all are taken. */
static int shape_index(struct sl_dp_hook *h, const struct sl_shape *want, const bool *pending)
{
	int free_idx = -1;

	for (int i = 0; i < SL_MAX_SHAPES; i++) {
		bool used = h->shape_refs[i] || pending[i];

		if (used && sl_shape_equal(&h->shapes[i], want))
			return i;
		if (!used && free_idx < 0)
			free_idx = i;
	}
	return free_idx;
}

int sl_hook_loaded(struct sl_dp_hook *h, struct sl_err *err)
{
	return sl_fast_open(&h->fast, bpf_map__fd(h->skel->maps.sl_fast), err);
}

/*
 * The rules map holding k and k in that map's key form: IPv6 shapes keep the
 * full key, the others the short one (struct sl_key4), as the program looks
 * them up.
 */
static int rules_map(struct sl_dp_hook *h, const struct sl_key *k, struct sl_key4 *k4,
		     const void **key)
{
	if (h->shapes[k->shape].family == SL_FAMILY_IPV6) {
		*key = k;
		return bpf_map__fd(h->skel->maps.sl_rules);
	}
	*k4 = sl_key4_of(k);
	*key = k4;
	return bpf_map__fd(h->skel->maps.sl_rules4);
}

static int rules_update(struct sl_dp_hook *h, const struct sl_key *k, const struct sl_rule_val *v,
			uint64_t flags)
{
	struct sl_key4 k4;
	const void *key;
	int fd = rules_map(h, k, &k4, &key);

	return bpf_map_update_elem(fd, key, v, flags);
}

static int rules_delete(struct sl_dp_hook *h, const struct sl_key *k)
{
	struct sl_key4 k4;
	const void *key;
	int fd = rules_map(h, k, &k4, &key);

	return bpf_map_delete_elem(fd, key);
}

static int zero_counters(struct sl_dp_hook *h, uint32_t slot)
{
	struct sl_counter *zeros = calloc((size_t)h->ncpus, sizeof(*zeros));
	int rc;

	if (!zeros)
		return -ENOMEM;
	rc = bpf_map_update_elem(bpf_map__fd(h->skel->maps.sl_counters), &slot, zeros, 0);
	free(zeros);
	return rc;
}

/* Removes entries[0..n) of slot from the index and the map. */
static void remove_entries(struct sl_dp_hook *h, struct sl_entry *entries, int n, uint32_t slot)
{
	for (int i = 0; i < n; i++) {
		struct sl_key *k = &entries[i].key;
		uint64_t next_rank;
		uint32_t next;
		int was_first;

		if (sl_keyindex_del(h->keys, k, slot, &was_first, &next, &next_rank))
			continue;
		if (was_first && next == UINT32_MAX) {
			rules_delete(h, k);
			sl_fast_bloom_del(&h->fast, k);
		} else if (was_first) {
			struct sl_rule_val v = { .slot = next,
						 .action = h->shapes[k->shape].action,
						 .rank = next_rank };

			rules_update(h, k, &v, BPF_EXIST);
		}
		h->shape_refs[k->shape]--;
		if (!h->shape_refs[k->shape])
			sl_fast_shape_publish(&h->fast, k->shape, &h->shapes[k->shape], false);
	}
}

/* Lower wins: the operator's priority, then the narrower match, then the older rule. */
static uint64_t rule_rank(struct sl_dp_hook *h, const struct sl_match *m,
			  const struct sl_dp_action *act)
{
	unsigned int spec = sl_match_specificity(m);

	if (act->kind == SL_ACTION_DROP)
		return 0;
	return ((uint64_t)act->priority << 48) | ((uint64_t)(0xffff - (spec & 0xffff)) << 32) |
	       h->next_seq++;
}

static int check_action(struct sl_dp_hook *h, const struct sl_dp_action *act, struct sl_err *err)
{
	if (act->kind == SL_ACTION_DROP)
		return 0;
	if (act->kind != SL_ACTION_REDIRECT && act->kind != SL_ACTION_REWRITE)
		return sl_err_set(err, EINVAL, "unknown rule action %u", act->kind);
	if (h->kind == SL_HOOK_XDP)
		return sl_err_set(err, EINVAL, "%s rules need a tc hook (tc-ingress or tc-egress)",
				  act->kind == SL_ACTION_REWRITE ? "rewrite" : "redirect");
	if (act->kind == SL_ACTION_REWRITE) {
		if (!h->ct)
			return sl_err_set(err, EINVAL, "rewrite rules need the daemon's conntrack");
		if (!(act->nat.flags & (SL_NAT_SRC | SL_NAT_DST | SL_NAT_SPORT | SL_NAT_DPORT)))
			return sl_err_set(err, EINVAL, "a rewrite rule must change something");
		if (act->nat.family != SL_FAMILY_IPV4 && act->nat.family != SL_FAMILY_IPV6)
			return sl_err_set(err, EINVAL, "a rewrite rule translates IPv4 or IPv6");
		if (!act->redirect.mode)
			return 0;
	}
	if (act->redirect.mode < SL_REDIR_EGRESS || act->redirect.mode > SL_REDIR_ROUTE)
		return sl_err_set(err, EINVAL, "unknown redirect mode %u", act->redirect.mode);
	if (!act->redirect.ifindex && act->redirect.mode != SL_REDIR_ROUTE)
		return sl_err_set(err, EINVAL, "this redirect mode needs a target interface");
	return 0;
}

/* Conntrack is looked at where rewrite rules live and where their replies arrive. */
static void ct_active_refresh(struct sl_dp_hook *h)
{
	sl_fast_ct_active(&h->fast, h->nrewrites || h->reply_refs);
}

int sl_dp_rule_add(struct sl_dp_hook *h, const struct sl_match *m, uint32_t *slot_out,
		   struct sl_err *err)
{
	struct sl_dp_action drop = { .kind = SL_ACTION_DROP };

	return sl_dp_rule_add_action(h, m, &drop, slot_out, err);
}

/* Takes a free slot, or the one asked for (restore). */
static int slot_take(struct sl_dp_hook *h, uint32_t want, uint32_t *slot, struct sl_err *err)
{
	if (want == UINT32_MAX) {
		if (h->nfree == 0 && h->next_slot >= h->nslots)
			return sl_err_set(err, ENOSPC, "%s%s%s holds %u rules, its maximum", h->ifname,
					  h->ifname[0] ? " " : "", sl_hook_name(h->kind), h->nslots);
		*slot = h->nfree ? h->free_slots[--h->nfree] : h->next_slot++;
		return 0;
	}
	if (want >= h->nslots)
		return sl_err_set(err, ENOSPC, "slot %u is beyond %s's %u rules", want, h->ifname,
				  h->nslots);
	if (h->slot_used[want])
		return sl_err_set(err, EEXIST, "slot %u of %s is taken", want, h->ifname);
	if (want >= h->next_slot) {
		while (h->next_slot < want)
			h->free_slots[h->nfree++] = h->next_slot++;
		h->next_slot++;
	} else {
		uint32_t i = h->nfree;

		while (i > 0 && h->free_slots[i - 1] != want)
			i--;
		if (i == 0)
			return sl_err_set(err, EEXIST, "slot %u of %s is taken", want, h->ifname);
		h->free_slots[i - 1] = h->free_slots[--h->nfree];
	}
	*slot = want;
	return 0;
}

static int rule_add(struct sl_dp_hook *h, const struct sl_match *m,
		    const struct sl_dp_action *act, uint32_t want_slot, uint32_t *slot_out,
		    struct sl_err *err)
{
	bool pending[SL_MAX_SHAPES] = { false };
	struct sl_entry *entries;
	uint64_t rank;
	int n, i, rc;
	uint32_t slot;

	rc = check_action(h, act, err);
	if (rc)
		return rc;
	n = sl_keyset_expand(m, &entries, err);
	if (n < 0)
		return n;
	/* Redirect and rewrite rules are ranked together, so they share shapes. */
	for (i = 0; i < n; i++)
		entries[i].shape.action = sl_shape_action_of(act->kind);
	if (want_slot == UINT32_MAX && h->nfree == 0 && h->next_slot >= h->nslots) {
		free(entries);
		return sl_err_set(err, ENOSPC, "%s%s%s holds %u rules, its maximum", h->ifname,
				  h->ifname[0] ? " " : "", sl_hook_name(h->kind), h->nslots);
	}

	/* Place every entry's shape before touching the kernel. */
	for (i = 0; i < n; i++) {
		int idx = shape_index(h, &entries[i].shape, pending);

		if (idx < 0) {
			free(entries);
			return sl_err_set(err, ENOSPC,
					  "%s%s%s already uses %d distinct rule shapes (field and prefix-length combinations), its maximum",
					  h->ifname, h->ifname[0] ? " " : "", sl_hook_name(h->kind),
					  SL_MAX_SHAPES);
		}
		if (!h->shape_refs[idx] && !pending[idx]) {
			h->shapes[idx] = entries[i].shape;
			pending[idx] = true;
		}
		entries[i].key.shape = (uint8_t)idx;
	}

	/* Masks land while unlisted, so a reader never sees a half-written shape. */
	for (i = 0; i < SL_MAX_SHAPES; i++)
		if (pending[i])
			sl_fast_shape_masks(&h->fast, (uint32_t)i, &h->shapes[i]);

	rc = slot_take(h, want_slot, &slot, err);
	if (rc) {
		free(entries);
		return rc;
	}
	/*
	 * A restored rule keeps counting where the previous daemon left it; a
	 * slot of a new map that never held a rule is zero already.
	 */
	if (h->counters_kept ? want_slot == UINT32_MAX : slot < h->slots_dirty)
		rc = zero_counters(h, slot);
	if (slot >= h->slots_dirty)
		h->slots_dirty = slot + 1;
	if (!rc && act->kind != SL_ACTION_DROP)
		rc = bpf_map_update_elem(bpf_map__fd(h->skel->maps.sl_redirects), &slot,
					 &act->redirect, 0);
	if (!rc && act->kind == SL_ACTION_REWRITE)
		rc = bpf_map_update_elem(bpf_map__fd(h->skel->maps.sl_nat_rules), &slot, &act->nat,
					 0);
	if (rc) {
		rc = sl_err_set(err, -rc, "cannot prepare the rule's slot: %s", strerror(-rc));
		goto undo_slot;
	}
	rank = rule_rank(h, m, act);

	for (i = 0; i < n; i++) {
		struct sl_key *k = &entries[i].key;
		struct sl_rule_val v = { .slot = slot, .action = act->kind, .rank = rank };
		uint32_t prev;
		int first;

		rc = sl_keyindex_add(h->keys, k, slot, rank, &first, &prev);
		if (rc) {
			rc = sl_err_set(err, ENOMEM, "out of memory");
			goto undo_entries;
		}
		h->shape_refs[k->shape]++;
		if (!first)
			continue;
		/* A new shape stays unlisted until its entries are all in place. */
		if (prev == UINT32_MAX)
			sl_fast_bloom_add(&h->fast, k);
		rc = rules_update(h, k, &v, prev == UINT32_MAX ? BPF_NOEXIST : BPF_EXIST);
		if (rc) {
			rc = sl_err_set(err, rc == -E2BIG || rc == -ENOMEM ? ENOSPC : -rc,
					"cannot insert classifier entry: %s", strerror(-rc));
			i++;
			goto undo_entries;
		}
	}
	for (i = 0; i < SL_MAX_SHAPES; i++)
		if (pending[i])
			sl_fast_shape_publish(&h->fast, (uint32_t)i, &h->shapes[i], true);
	h->slot_match[slot] = *m;
	h->slot_action[slot] = (uint8_t)act->kind;
	h->slot_used[slot] = true;
	h->nrules++;
	if (act->kind == SL_ACTION_REWRITE) {
		h->nrewrites++;
		ct_active_refresh(h);
	}
	*slot_out = slot;
	free(entries);
	return 0;

undo_entries:
	remove_entries(h, entries, i, slot);
undo_slot:
	h->free_slots[h->nfree++] = slot;
	free(entries);
	return rc;
}

int sl_dp_rule_add_action(struct sl_dp_hook *h, const struct sl_match *m,
			  const struct sl_dp_action *act, uint32_t *slot, struct sl_err *err)
{
	return rule_add(h, m, act, UINT32_MAX, slot, err);
}

int sl_dp_rule_restore(struct sl_dp_hook *h, const struct sl_match *m,
		       const struct sl_dp_action *act, uint32_t slot, struct sl_err *err)
{
	uint32_t got;

	return rule_add(h, m, act, slot, &got, err);
}

int sl_dp_rule_del(struct sl_dp_hook *h, uint32_t slot, struct sl_err *err)
{
	struct sl_entry *entries;
	int n;

	if (slot >= h->nslots || !h->slot_used[slot])
		return sl_err_set(err, ENOENT, "no rule in slot %u", slot);
	n = sl_keyset_expand(&h->slot_match[slot], &entries, err);
	if (n < 0)
		return n;
	/* The expansion is deterministic; shapes are found again by equality. */
	for (int i = 0; i < n; i++) {
		entries[i].shape.action = sl_shape_action_of(h->slot_action[slot]);
		for (int s = 0; s < SL_MAX_SHAPES; s++) {
			if (h->shape_refs[s] && sl_shape_equal(&h->shapes[s], &entries[i].shape)) {
				entries[i].key.shape = (uint8_t)s;
				break;
			}
		}
	}
	remove_entries(h, entries, n, slot);
	free(entries);
	h->slot_used[slot] = false;
	h->free_slots[h->nfree++] = slot;
	h->nrules--;
	if (h->slot_action[slot] == SL_ACTION_REWRITE) {
		h->nrewrites--;
		ct_active_refresh(h);
	}
	return 0;
}

int sl_dp_rule_set_redirect(struct sl_dp_hook *h, uint32_t slot, const struct sl_redirect *r)
{
	if (slot >= h->nslots || !h->slot_used[slot] || h->slot_action[slot] == SL_ACTION_DROP)
		return -ENOENT;
	/* One map value, replaced whole: a packet sees the old target or the new one. */
	return bpf_map_update_elem(bpf_map__fd(h->skel->maps.sl_redirects), &slot, r, BPF_EXIST)
		       ? -errno
		       : 0;
}

void sl_dp_hook_reply_point(struct sl_dp_hook *h, bool on)
{
	if (on)
		h->reply_refs++;
	else if (h->reply_refs)
		h->reply_refs--;
	ct_active_refresh(h);
}

uint32_t sl_dp_hook_zone(const struct sl_dp_hook *h)
{
	return h->zone;
}

int sl_dp_rule_stats(struct sl_dp_hook *h, uint32_t slot, struct sl_dp_counters *out)
{
	struct sl_counter *vals;
	int rc;

	memset(out, 0, sizeof(*out));
	if (slot >= h->nslots || !h->slot_used[slot])
		return -ENOENT;
	vals = calloc((size_t)h->ncpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	rc = bpf_map_lookup_elem(bpf_map__fd(h->skel->maps.sl_counters), &slot, vals);
	if (!rc) {
		for (int c = 0; c < h->ncpus; c++) {
			out->packets += vals[c].packets;
			out->bytes += vals[c].bytes;
			out->fallbacks += vals[c].fallbacks;
			out->neigh_misses += vals[c].neigh_misses;
			out->nat_failures += vals[c].nat_failures;
		}
	}
	free(vals);
	return rc;
}

int sl_dp_rule_counters(struct sl_dp_hook *h, uint32_t slot, uint64_t *packets, uint64_t *bytes)
{
	struct sl_dp_counters c;
	int rc = sl_dp_rule_stats(h, slot, &c);

	*packets = c.packets;
	*bytes = c.bytes;
	return rc;
}

uint32_t sl_dp_hook_rule_count(const struct sl_dp_hook *h)
{
	return h->nrules;
}

uint32_t sl_dp_hook_shape_count(const struct sl_dp_hook *h)
{
	uint32_t n = 0;

	for (int i = 0; i < SL_MAX_SHAPES; i++)
		n += h->shape_refs[i] != 0;
	return n;
}

int sl_dp_hook_ifindex(const struct sl_dp_hook *h)
{
	return h->ifindex;
}

uint32_t sl_dp_hook_prog_id(const struct sl_dp_hook *h)
{
	return h->prog_id;
}

const char *sl_dp_hook_xdp_mode(const struct sl_dp_hook *h)
{
	if (h->kind != SL_HOOK_XDP)
		return "";
	return h->xdp_mode == XDP_MODE_NATIVE ? "native" : "skb";
}
