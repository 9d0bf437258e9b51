// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "conntrack.h"
#include "pin.h"
#include "sl_log.h"

#define NS_PER_S 1000000000ull

struct sl_dp_ct {
	int flows_fd, frags_fd, config_fd;
	uint32_t capacity;
	struct sl_ct_config cfg;
};

static const char *const state_names[SL_CT_NSTATES] = {
	[SL_CT_TCP_SYN] = "tcp-syn",
	[SL_CT_TCP_ESTABLISHED] = "tcp-established",
	[SL_CT_TCP_CLOSING] = "tcp-close",
	[SL_CT_UDP] = "udp",
	[SL_CT_ICMP] = "icmp",
};

static const uint32_t default_timeouts_s[SL_CT_NSTATES] = {
	[SL_CT_TCP_SYN] = 60,
	[SL_CT_TCP_ESTABLISHED] = 21600,
	[SL_CT_TCP_CLOSING] = 10,
	[SL_CT_UDP] = 30,
	[SL_CT_ICMP] = 30,
};

const char *sl_ct_state_name(uint8_t state)
{
	return state < SL_CT_NSTATES ? state_names[state] : "unknown";
}

int sl_ct_state_parse(const char *text, uint8_t *state)
{
	for (uint8_t i = 0; i < SL_CT_NSTATES; i++) {
		if (!strcmp(text, state_names[i])) {
			*state = i;
			return 0;
		}
	}
	return -EINVAL;
}

int sl_ct_timeout_parse(const char *text, struct sl_ct_opts *opts, struct sl_err *err)
{
	const char *eq = strchr(text, '=');
	char name[32], *end;
	unsigned long secs;
	uint8_t state;

	if (!eq || (size_t)(eq - text) >= sizeof(name))
		return sl_err_set(err, EINVAL, "'%s' is not NAME=SECONDS", text);
	memcpy(name, text, (size_t)(eq - text));
	name[eq - text] = '\0';
	if (sl_ct_state_parse(name, &state))
		return sl_err_set(err, EINVAL,
				  "unknown timeout '%s' (tcp-syn, tcp-established, tcp-close, udp, icmp)",
				  name);
	errno = 0;
	secs = strtoul(eq + 1, &end, 10);
	if (errno || end == eq + 1 || *end || secs < 1 || secs > 30 * 86400)
		return sl_err_set(err, EINVAL, "timeout %s: '%s' is not 1-2592000 seconds", name,
				  eq + 1);
	opts->timeout_s[state] = (uint32_t)secs;
	return 0;
}

static const char *const pinned_names[] = { "conntrack", "frags", "ct_config" };

/*
 * One of the shared maps: the pinned one a previous daemon left when it has
 * the same layout and size, else a new one pinned in its place.
 */
static int ct_map(const struct sl_ct_opts *opts, const char *name, enum bpf_map_type type,
		  uint32_t key_size, uint32_t value_size, uint32_t max_entries)
{
	char path[PATH_MAX], map_name[16];
	int fd, rc;

	snprintf(map_name, sizeof(map_name), "sl_%s", name);
	if (!opts || !opts->pin_root)
		return bpf_map_create(type, map_name, key_size, value_size, max_entries, NULL);
	if (snprintf(path, sizeof(path), "%s/%s", opts->pin_root, name) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = sl_pin_map_get(path, type, key_size, value_size, max_entries, 0);
	if (fd >= 0) {
		sl_log(SL_LOG_DEBUG, "%s: taken over from %s", map_name, path);
		return fd;
	}
	if (fd == -ESTALE)
		sl_log(SL_LOG_WARN, "%s has another size or layout (--ct-max or version changed): "
				    "starting with an empty %s",
		       path, name);
	fd = bpf_map_create(type, map_name, key_size, value_size, max_entries, NULL);
	if (fd < 0)
		return fd;
	rc = sl_pin_fd(fd, path);
	if (rc)
		sl_log(SL_LOG_WARN, "cannot pin %s: %s; flows will not survive a restart", path,
		       strerror(-rc));
	return fd;
}

void sl_dp_ct_unpin(const char *pin_root)
{
	char path[PATH_MAX];

	for (size_t i = 0; i < sizeof(pinned_names) / sizeof(pinned_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_root, pinned_names[i]);
		if (unlink(path) && errno != ENOENT)
			sl_log(SL_LOG_WARN, "cannot remove %s: %s", path, strerror(errno));
	}
}

int sl_dp_ct_new(const struct sl_ct_opts *opts, struct sl_dp_ct **out, struct sl_err *err)
{
	struct sl_dp_ct *ct = calloc(1, sizeof(*ct));
	uint32_t flows = opts && opts->max_flows ? opts->max_flows : SL_DEFAULT_CT_ENTRIES / 2;
	uint32_t zero = 0;
	int rc;

	if (!ct)
		return sl_err_set(err, ENOMEM, "out of memory");
	ct->flows_fd = ct->frags_fd = ct->config_fd = -1;
	ct->capacity = flows * 2;
	for (int i = 0; i < SL_CT_NSTATES; i++) {
		uint32_t s = opts && opts->timeout_s[i] ? opts->timeout_s[i] : default_timeouts_s[i];

		ct->cfg.timeout_ns[i] = (uint64_t)s * NS_PER_S;
	}
	ct->cfg.port_lo = opts && opts->port_lo ? opts->port_lo : 32768;
	ct->cfg.port_hi = opts && opts->port_hi ? opts->port_hi : 60999;

	ct->flows_fd = ct_map(opts, "conntrack", BPF_MAP_TYPE_LRU_HASH, sizeof(struct sl_ct_key),
			      sizeof(struct sl_ct_val), ct->capacity);
	if (ct->flows_fd >= 0)
		ct->frags_fd = ct_map(opts, "frags", BPF_MAP_TYPE_LRU_HASH, sizeof(struct sl_frag_key),
				      sizeof(struct sl_ct_key), SL_DEFAULT_FRAG_ENTRIES);
	if (ct->frags_fd >= 0)
		ct->config_fd = ct_map(opts, "ct_config", BPF_MAP_TYPE_ARRAY, sizeof(uint32_t),
				       sizeof(struct sl_ct_config), 1);
	if (ct->config_fd < 0) {
		rc = sl_err_set(err, errno, "cannot create the conntrack maps (%u entries): %s",
				ct->capacity, strerror(errno));
		sl_dp_ct_free(ct);
		return rc;
	}
	if (bpf_map_update_elem(ct->config_fd, &zero, &ct->cfg, 0)) {
		rc = sl_err_set(err, errno, "cannot configure conntrack: %s", strerror(errno));
		sl_dp_ct_free(ct);
		return rc;
	}
	*out = ct;
	return 0;
}

void sl_dp_ct_free(struct sl_dp_ct *ct)
{
	if (!ct)
		return;
	if (ct->flows_fd >= 0)
		close(ct->flows_fd);
	if (ct->frags_fd >= 0)
		close(ct->frags_fd);
	if (ct->config_fd >= 0)
		close(ct->config_fd);
	free(ct);
}

int sl_dp_ct_flows_fd(const struct sl_dp_ct *ct)
{
	return ct->flows_fd;
}

int sl_dp_ct_frags_fd(const struct sl_dp_ct *ct)
{
	return ct->frags_fd;
}

int sl_dp_ct_config_fd(const struct sl_dp_ct *ct)
{
	return ct->config_fd;
}

uint32_t sl_dp_ct_capacity(const struct sl_dp_ct *ct)
{
	return ct->capacity;
}

/* bpf_ktime_get_ns() is CLOCK_MONOTONIC. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static uint64_t remaining_ns(const struct sl_dp_ct *ct, const struct sl_ct_val *v, uint64_t now)
{
	uint64_t timeout = v->state < SL_CT_NSTATES ? ct->cfg.timeout_ns[v->state] : 0;
	uint64_t idle = now > v->last_seen_ns ? now - v->last_seen_ns : 0;

	return idle >= timeout ? 0 : timeout - idle;
}

/* Entries read per system call. */
#define ENTRY_BATCH 2048

typedef int (*entry_fn)(struct sl_dp_ct *ct, const struct sl_ct_key *k, const struct sl_ct_val *v,
			void *arg);

/*
 * Calls fn for every entry, read in batches: a sweep runs every few seconds
 * over a table that may hold a million entries. fn may delete entries.
 * Stops at fn's first nonzero return and returns it.
 */
static int for_each_entry(struct sl_dp_ct *ct, entry_fn fn, void *arg)
{
	struct sl_ct_key *keys = calloc(ENTRY_BATCH, sizeof(*keys));
	struct sl_ct_val *vals = calloc(ENTRY_BATCH, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t token = 0, next = 0;
	bool first = true, done = false;
	int rc = 0;

	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	/* Bounded: each batch moves on through the table's buckets. */
	for (size_t rounds = 0; !rc && !done && rounds <= ct->capacity; rounds++) {
		uint32_t count = ENTRY_BATCH;

		if (bpf_map_lookup_batch(ct->flows_fd, first ? NULL : &token, &next, keys, vals,
					 &count, &opts)) {
			if (errno != ENOENT) {
				rc = -errno;
				break;
			}
			done = true; /* the last batch, possibly partial */
		}
		for (uint32_t i = 0; !rc && i < count; i++)
			rc = fn(ct, &keys[i], &vals[i], arg);
		token = next;
		first = false;
	}
out:
	free(keys);
	free(vals);
	return rc;
}

struct walk_ctx {
	sl_ct_visit_fn fn;
	void *arg;
	uint64_t now;
};

/* A flow is listed by its forward entry, with its reply twin if still there. */
static int visit_flow(struct sl_dp_ct *ct, const struct sl_ct_key *k, const struct sl_ct_val *v,
		      void *arg)
{
	struct walk_ctx *w = arg;
	struct sl_ct_flow flow = { .key = *k, .fwd = *v };
	struct sl_ct_key rkey;

	if (v->dir != SL_CT_FORWARD)
		return 0;
	sl_ct_twin_key(k, &v->rewrite, &rkey);
	flow.has_reply = bpf_map_lookup_elem(ct->flows_fd, &rkey, &flow.reply) == 0 &&
			 flow.reply.dir == SL_CT_REPLY;
	flow.expires_ns = remaining_ns(ct, &flow.fwd, w->now);
	if (flow.has_reply && remaining_ns(ct, &flow.reply, w->now) > flow.expires_ns)
		flow.expires_ns = remaining_ns(ct, &flow.reply, w->now);
	return flow.expires_ns ? w->fn(&flow, w->arg) : 0;
}

int sl_dp_ct_walk(struct sl_dp_ct *ct, sl_ct_visit_fn fn, void *arg)
{
	struct walk_ctx w = { .fn = fn, .arg = arg, .now = now_ns() };

	return for_each_entry(ct, visit_flow, &w);
}

struct sweep_ctx {
	uint64_t now;
	uint64_t rule_id; /* flush: 0 = every rule */
	unsigned int removed;
};

/*
 * An expired entry goes with its twin once the twin is expired or gone: a
 * flow lives while either direction is active. Only expired entries cost a
 * lookup of their twin.
 */
static int expire_entry(struct sl_dp_ct *ct, const struct sl_ct_key *k, const struct sl_ct_val *v,
			void *arg)
{
	struct sweep_ctx *sw = arg;
	struct sl_ct_key twin_key;
	struct sl_ct_val twin = { 0 };

	if (remaining_ns(ct, v, sw->now))
		return 0;
	sl_ct_twin_key(k, &v->rewrite, &twin_key);
	if (bpf_map_lookup_elem(ct->flows_fd, &twin_key, &twin) == 0) {
		if (remaining_ns(ct, &twin, sw->now))
			return 0;
		bpf_map_delete_elem(ct->flows_fd, &twin_key);
	}
	bpf_map_delete_elem(ct->flows_fd, k);
	if (v->dir == SL_CT_FORWARD || twin.dir == SL_CT_FORWARD)
		sw->removed++;
	return 0;
}

int sl_dp_ct_expire(struct sl_dp_ct *ct, unsigned int *removed)
{
	struct sweep_ctx sw = { .now = now_ns() };
	int rc = for_each_entry(ct, expire_entry, &sw);

	if (removed)
		*removed = sw.removed;
	return rc;
}

/* Both entries of a flow carry its rule: each goes on its own, orphans included. */
static int flush_entry(struct sl_dp_ct *ct, const struct sl_ct_key *k, const struct sl_ct_val *v,
		       void *arg)
{
	struct sweep_ctx *sw = arg;

	if (sw->rule_id && v->rule_id != sw->rule_id)
		return 0;
	bpf_map_delete_elem(ct->flows_fd, k);
	if (v->dir == SL_CT_FORWARD)
		sw->removed++;
	return 0;
}

int sl_dp_ct_flush(struct sl_dp_ct *ct, uint64_t rule_id, unsigned int *removed)
{
	struct sweep_ctx sw = { .rule_id = rule_id };
	int rc = for_each_entry(ct, flush_entry, &sw);

	if (removed)
		*removed = sw.removed;
	return rc;
}
