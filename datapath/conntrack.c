// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "conntrack.h"

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

	ct->flows_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "sl_conntrack", sizeof(struct sl_ct_key),
				      sizeof(struct sl_ct_val), ct->capacity, NULL);
	if (ct->flows_fd >= 0)
		ct->frags_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "sl_frags",
					      sizeof(struct sl_frag_key), sizeof(struct sl_ct_key),
					      SL_DEFAULT_FRAG_ENTRIES, NULL);
	if (ct->frags_fd >= 0)
		ct->config_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "sl_ct_cfg", sizeof(uint32_t),
					       sizeof(struct sl_ct_config), 1, NULL);
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

static void reverse_key(const struct sl_ct_key *k, const struct sl_ct_tuple *t,
			struct sl_ct_key *out)
{
	memset(out, 0, sizeof(*out));
	out->zone = k->zone;
	out->family = k->family;
	out->proto = k->proto;
	memcpy(out->src, t->dst, sizeof(out->src));
	memcpy(out->dst, t->src, sizeof(out->dst));
	out->sport = t->dport;
	out->dport = t->sport;
}

/*
 * Every forward entry with its reply twin. Keys are collected first: the
 * walk deletes, and a hash walk that deletes as it goes may skip keys.
 */
static int collect_keys(struct sl_dp_ct *ct, struct sl_ct_key **out, size_t *n)
{
	struct sl_ct_key key, next, *keys = NULL;
	size_t cap = 0, count = 0;
	const void *prev = NULL;

	while (bpf_map_get_next_key(ct->flows_fd, prev, &next) == 0) {
		if (count == cap) {
			size_t grown_cap = cap ? cap * 2 : 256;
			struct sl_ct_key *grown = realloc(keys, grown_cap * sizeof(*grown));

			if (!grown) {
				free(keys);
				return -ENOMEM;
			}
			keys = grown;
			cap = grown_cap;
		}
		keys[count++] = next;
		key = next;
		prev = &key;
		/* An LRU map never holds more than its capacity; a walk that restarts would. */
		if (count > (size_t)ct->capacity * 2)
			break;
	}
	*out = keys;
	*n = count;
	return 0;
}

/* fn gets each flow; returns fn's first nonzero result. Flows are found by their forward entry. */
static int for_each_flow(struct sl_dp_ct *ct, int (*fn)(struct sl_dp_ct *, struct sl_ct_flow *,
							    void *),
			 void *arg)
{
	struct sl_ct_key *keys;
	uint64_t now = now_ns();
	size_t n;
	int rc = collect_keys(ct, &keys, &n);

	for (size_t i = 0; !rc && i < n; i++) {
		struct sl_ct_flow flow = { .key = keys[i] };
		struct sl_ct_key rkey;

		if (bpf_map_lookup_elem(ct->flows_fd, &keys[i], &flow.fwd) ||
		    flow.fwd.dir != SL_CT_FORWARD)
			continue;
		reverse_key(&keys[i], &flow.fwd.rewrite, &rkey);
		flow.has_reply = bpf_map_lookup_elem(ct->flows_fd, &rkey, &flow.reply) == 0 &&
				 flow.reply.dir == SL_CT_REPLY;
		flow.expires_ns = remaining_ns(ct, &flow.fwd, now);
		if (flow.has_reply && remaining_ns(ct, &flow.reply, now) > flow.expires_ns)
			flow.expires_ns = remaining_ns(ct, &flow.reply, now);
		rc = fn(ct, &flow, arg);
	}
	free(keys);
	return rc;
}

static void delete_flow(struct sl_dp_ct *ct, const struct sl_ct_flow *flow)
{
	struct sl_ct_key rkey;

	reverse_key(&flow->key, &flow->fwd.rewrite, &rkey);
	bpf_map_delete_elem(ct->flows_fd, &flow->key);
	if (flow->has_reply)
		bpf_map_delete_elem(ct->flows_fd, &rkey);
}

struct visit_ctx {
	sl_ct_visit_fn fn;
	void *arg;
	uint64_t rule_id;
	unsigned int removed;
};

static int visit_live(struct sl_dp_ct *ct, struct sl_ct_flow *flow, void *arg)
{
	struct visit_ctx *v = arg;

	(void)ct;
	return flow->expires_ns ? v->fn(flow, v->arg) : 0;
}

int sl_dp_ct_walk(struct sl_dp_ct *ct, sl_ct_visit_fn fn, void *arg)
{
	struct visit_ctx v = { .fn = fn, .arg = arg };

	return for_each_flow(ct, visit_live, &v);
}

/* Entries read per system call when sweeping. */
#define EXPIRE_BATCH 2048

/*
 * An expired entry goes with its twin once the twin is expired or gone: a
 * flow lives while either direction is active. Entries are read in batches
 * (a sweep runs every few seconds over a table that may hold a million
 * entries) and only expired ones cost a lookup of their twin.
 */
static void expire_entry(struct sl_dp_ct *ct, const struct sl_ct_key *k,
			 const struct sl_ct_val *v, uint64_t now, unsigned int *removed)
{
	struct sl_ct_key twin_key;
	struct sl_ct_val twin = { 0 };

	if (remaining_ns(ct, v, now))
		return;
	reverse_key(k, &v->rewrite, &twin_key);
	if (bpf_map_lookup_elem(ct->flows_fd, &twin_key, &twin) == 0) {
		if (remaining_ns(ct, &twin, now))
			return;
		bpf_map_delete_elem(ct->flows_fd, &twin_key);
	}
	bpf_map_delete_elem(ct->flows_fd, k);
	if (v->dir == SL_CT_FORWARD || twin.dir == SL_CT_FORWARD)
		(*removed)++;
}

int sl_dp_ct_expire(struct sl_dp_ct *ct, unsigned int *removed)
{
	struct sl_ct_key *keys = calloc(EXPIRE_BATCH, sizeof(*keys));
	struct sl_ct_val *vals = calloc(EXPIRE_BATCH, sizeof(*vals));
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint32_t token = 0, next = 0;
	uint64_t now = now_ns();
	unsigned int gone = 0;
	bool first = true, done = false;
	int rc = 0;

	if (!keys || !vals) {
		rc = -ENOMEM;
		goto out;
	}
	/* Bounded: each batch moves on through the table's buckets. */
	for (size_t rounds = 0; !done && rounds <= ct->capacity; rounds++) {
		uint32_t count = EXPIRE_BATCH;

		if (bpf_map_lookup_batch(ct->flows_fd, first ? NULL : &token, &next, keys, vals,
					 &count, &opts)) {
			if (errno != ENOENT) {
				rc = -errno;
				break;
			}
			done = true; /* the last batch, possibly partial */
		}
		for (uint32_t i = 0; i < count; i++)
			expire_entry(ct, &keys[i], &vals[i], now, &gone);
		token = next;
		first = false;
	}
out:
	free(keys);
	free(vals);
	if (removed)
		*removed = gone;
	return rc;
}

static int flush_one(struct sl_dp_ct *ct, struct sl_ct_flow *flow, void *arg)
{
	struct visit_ctx *v = arg;

	if (!v->rule_id || flow->fwd.rule_id == v->rule_id) {
		delete_flow(ct, flow);
		v->removed++;
	}
	return 0;
}

int sl_dp_ct_flush(struct sl_dp_ct *ct, uint64_t rule_id, unsigned int *removed)
{
	struct visit_ctx v = { .rule_id = rule_id };
	int rc = for_each_flow(ct, flush_one, &v);

	/* Reply entries left alone by a vanished forward entry go too. */
	if (!rc) {
		struct sl_ct_key *keys;
		size_t n;

		rc = collect_keys(ct, &keys, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			struct sl_ct_val val;

			if (bpf_map_lookup_elem(ct->flows_fd, &keys[i], &val) == 0 &&
			    (!rule_id || val.rule_id == rule_id))
				bpf_map_delete_elem(ct->flows_fd, &keys[i]);
		}
		if (!rc)
			free(keys);
	}
	if (removed)
		*removed = v.removed;
	return rc;
}
