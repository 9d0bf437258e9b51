// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sluice-microbench: ns per packet of the sluice XDP and TC programs with
 * 1, 1,000 and 100,000 rules of mixed shapes, for a frame that matches no
 * rule (every IPv4 shape probed) and one that matches, next to programs
 * that drop without looking. Timings are reported, never asserted.
 */
#include <errno.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "bare_drop.skel.h"
#include "bench_rules.h"
#include "bench_timing.h"
#include "hook.h"
#include "rule_spec.h"

#define MAX_RESULTS 32
#define MAX_RATIOS 16

struct config {
	uint32_t repeat, runs;
	bool json, smoke;
	const size_t *counts;
	size_t ncounts;
};

struct result {
	const char *program; /* "bare-xdp", "sluice-xdp", ... */
	const char *packet;  /* "any", "miss", "hit" */
	size_t rules;
	uint32_t shapes;
	struct bench_stat st;
};

static struct result results[MAX_RESULTS];
static size_t nresults;

static const size_t full_counts[] = { 1, 1000, 100000 };
/* Smoke: enough to walk every code path, small enough for well under 5 s. */
static const size_t smoke_counts[] = { 1, 1000 };

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int record(const struct config *cfg, const char *program, const char *packet,
		  size_t rules, uint32_t shapes, int prog_fd, const struct frame *f, int want)
{
	struct result *r;
	int rc;

	if (nresults >= MAX_RESULTS)
		return -ENOSPC;
	r = &results[nresults];
	rc = bench_time(prog_fd, f->data, f->len, want, cfg->repeat, cfg->runs, &r->st);
	if (rc) {
		fprintf(stderr, "%s, %zu rules, %s frame: %s\n", program, rules, packet,
			rc == -EPROTO ? "program returned an unexpected verdict" : strerror(-rc));
		return rc;
	}
	r->program = program;
	r->packet = packet;
	r->rules = rules;
	r->shapes = shapes;
	nresults++;
	return 0;
}

static int bench_bare(const struct config *cfg, const struct frame *f)
{
	struct bare_drop_bpf *skel = bare_drop_bpf__open_and_load();
	int rc;

	if (!skel) {
		fprintf(stderr, "cannot load the bare drop programs: %s\n", strerror(errno));
		return -errno;
	}
	rc = record(cfg, "bare-xdp", "any", 0, 0, bpf_program__fd(skel->progs.bare_drop_xdp), f,
		    XDP_DROP);
	if (!rc)
		rc = record(cfg, "bare-tc", "any", 0, 0, bpf_program__fd(skel->progs.bare_drop_tc),
			    f, TC_ACT_SHOT);
	bare_drop_bpf__destroy(skel);
	return rc;
}

static int add_rules(struct sl_dp_hook *h, size_t from, size_t to)
{
	char text[128];

	for (size_t i = from; i < to; i++) {
		struct sl_err err = { 0 };
		struct sl_match m;
		uint32_t slot;
		int rc;

		rc = bench_rule_text(i, text, sizeof(text));
		if (!rc)
			rc = rule_spec_parse(text, &m, &err);
		if (!rc)
			rc = sl_dp_rule_add(h, &m, &slot, &err);
		if (rc) {
			fprintf(stderr, "rule %zu '%s': %s\n", i, text, err.msg[0] ? err.msg : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static int bench_sluice(const struct config *cfg, enum sl_hook_kind kind, const struct frame *miss)
{
	const char *name = kind == SL_HOOK_XDP ? "sluice-xdp" : "sluice-tc";
	int pass = kind == SL_HOOK_XDP ? XDP_PASS : TC_ACT_UNSPEC;
	int drop = kind == SL_HOOK_XDP ? XDP_DROP : TC_ACT_SHOT;
	struct sl_dp_opts opts = { .rule_slots = 0 }; /* default: 131072 rules */
	struct sl_err err = { 0 };
	struct sl_dp_hook *h;
	static struct frame hit;
	size_t added = 0;
	int rc;

	rc = sl_dp_hook_open_detached(kind, &opts, &h, &err);
	if (rc) {
		fprintf(stderr, "cannot load %s: %s\n", name, err.msg);
		return rc;
	}
	/* Rules accumulate: each count extends the previous population. */
	for (size_t c = 0; c < cfg->ncounts && !rc; c++) {
		size_t want = cfg->counts[c];
		double t0 = seconds();
		uint32_t shapes;

		rc = add_rules(h, added, want);
		if (rc)
			break;
		if (want > added)
			fprintf(stderr, "%s: added rules %zu..%zu in %.2f s\n", name, added + 1, want,
				seconds() - t0);
		added = want;
		shapes = sl_dp_hook_shape_count(h);
		rc = bench_hit_frame(added, &hit);
		if (!rc)
			rc = record(cfg, name, "miss", added, shapes, sl_dp_hook_prog_fd(h), miss, pass);
		if (!rc)
			rc = record(cfg, name, "hit", added, shapes, sl_dp_hook_prog_fd(h), &hit, drop);
	}
	sl_dp_hook_close(h);
	return rc;
}

static const struct result *find(const char *program, const char *packet, size_t rules)
{
	for (size_t i = 0; i < nresults; i++)
		if (!strcmp(results[i].program, program) && !strcmp(results[i].packet, packet) &&
		    results[i].rules == rules)
			return &results[i];
	return NULL;
}

/* Kernel medians are whole ns; a zero there falls back to the wall clock. */
static double ratio(const struct result *a, const struct result *b)
{
	if (b->st.median)
		return (double)a->st.median / b->st.median;
	return b->st.wall_median > 0 ? a->st.wall_median / b->st.wall_median : 0;
}

struct ratio_row {
	char label[96];
	double value;
};

static size_t collect_ratios(const struct config *cfg, struct ratio_row *rows, size_t max)
{
	static const char *const progs[] = { "sluice-xdp", "sluice-tc" };
	static const char *const bares[] = { "bare-xdp", "bare-tc" };
	static const char *const pkts[] = { "miss", "hit" };
	size_t lo = cfg->counts[0], hi = cfg->counts[cfg->ncounts - 1], n = 0;
	/* With three counts, the middle one has every shape: rule count alone varies. */
	size_t mid = cfg->ncounts >= 3 ? cfg->counts[cfg->ncounts - 2] : 0;

	for (size_t p = 0; p < 2; p++) {
		const struct result *bare = find(bares[p], "any", 0);

		for (size_t k = 0; k < 2 && n + 4 <= max; k++) {
			const struct result *a = find(progs[p], pkts[k], hi);
			const struct result *b = find(progs[p], pkts[k], lo);
			const struct result *m = mid ? find(progs[p], pkts[k], mid) : NULL;

			if (!a || !b || !bare)
				continue;
			snprintf(rows[n].label, sizeof(rows[n].label), "%s %s: %zu vs %zu rules",
				 progs[p], pkts[k], hi, lo);
			rows[n++].value = ratio(a, b);
			if (m) {
				snprintf(rows[n].label, sizeof(rows[n].label),
					 "%s %s: %zu vs %zu rules (same shapes)", progs[p], pkts[k],
					 hi, mid);
				rows[n++].value = ratio(a, m);
			}
			snprintf(rows[n].label, sizeof(rows[n].label), "%s %s, %zu rules vs %s",
				 progs[p], pkts[k], lo, bares[p]);
			rows[n++].value = ratio(b, bare);
			snprintf(rows[n].label, sizeof(rows[n].label), "%s %s, %zu rules vs %s",
				 progs[p], pkts[k], hi, bares[p]);
			rows[n++].value = ratio(a, bare);
		}
	}
	return n;
}

static void print_table(const struct config *cfg)
{
	struct ratio_row rows[MAX_RATIOS];
	size_t n = collect_ratios(cfg, rows, MAX_RATIOS);

	printf("BPF_PROG_TEST_RUN, repeat %u, %u runs per case; ns per packet as the kernel reports it\n"
	       "(median, min, max over runs), and wall clock per packet around the syscall.\n"
	       "miss: IPv4 TCP frame matching no rule; hit: IPv4 TCP frame matching a rule of the\n"
	       "last IPv4 shape probed (rule 0 when there is 1 rule). Rule kinds, round-robin:\n",
	       cfg->repeat, cfg->runs);
	for (int k = 0; k < BK_NKINDS; k++)
		printf("  %d. %s\n", k + 1, bench_kind_desc((enum bench_kind)k));
	printf("\n%-11s %7s %6s %-6s %8s %8s %8s %9s\n", "program", "rules", "shapes", "packet",
	       "median", "min", "max", "wall");
	for (size_t i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		char rules[24] = "-", shapes[16] = "-";

		if (r->rules) {
			snprintf(rules, sizeof(rules), "%zu", r->rules);
			snprintf(shapes, sizeof(shapes), "%u", r->shapes);
		}
		printf("%-11s %7s %6s %-6s %8u %8u %8u %9.2f\n", r->program, rules, shapes, r->packet,
		       r->st.median, r->st.min, r->st.max, r->st.wall_median);
	}
	printf("\nratios of medians:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-52s %6.2fx\n", rows[i].label, rows[i].value);
}

static void print_json(const struct config *cfg)
{
	struct ratio_row rows[MAX_RATIOS];
	size_t n = collect_ratios(cfg, rows, MAX_RATIOS);

	printf("{\"repeat\": %u, \"runs\": %u, \"smoke\": %s, \"results\": [", cfg->repeat,
	       cfg->runs, cfg->smoke ? "true" : "false");
	for (size_t i = 0; i < nresults; i++) {
		const struct result *r = &results[i];

		printf("%s\n  {\"program\": \"%s\", \"packet\": \"%s\", \"rules\": %zu, "
		       "\"shapes\": %u, \"median_ns\": %u, \"min_ns\": %u, \"max_ns\": %u, "
		       "\"wall_ns\": %.3f}",
		       i ? "," : "", r->program, r->packet, r->rules, r->shapes, r->st.median,
		       r->st.min, r->st.max, r->st.wall_median);
	}
	printf("\n], \"ratios\": [");
	for (size_t i = 0; i < n; i++)
		printf("%s\n  {\"what\": \"%s\", \"ratio\": %.3f}", i ? "," : "", rows[i].label,
		       rows[i].value);
	printf("\n]}\n");
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice-microbench [--repeat N] [--runs N] [--smoke] [--json]\n"
		"  --repeat N  program runs per BPF_PROG_TEST_RUN call (default 1000000)\n"
		"  --runs N    calls per case; median, min, max are over these (default 5, max %d)\n"
		"  --smoke     tiny and quick: 1 and 1000 rules, few repeats (for ctest)\n"
		"  --json      machine-readable output on stdout\n",
		BENCH_MAX_RUNS);
}

static int parse_u32(const char *text, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || !text[0] || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repeat", required_argument, NULL, 'r' },
		{ "runs", required_argument, NULL, 'n' },
		{ "smoke", no_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg = { .repeat = 1000000, .runs = 5, .counts = full_counts, .ncounts = 3 };
	bool repeat_set = false, runs_set = false;
	static struct frame miss;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			if (parse_u32(optarg, &cfg.repeat))
				goto bad;
			repeat_set = true;
			break;
		case 'n':
			if (parse_u32(optarg, &cfg.runs) || cfg.runs > BENCH_MAX_RUNS)
				goto bad;
			runs_set = true;
			break;
		case 's':
			cfg.smoke = true;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (cfg.smoke) {
		cfg.counts = smoke_counts;
		cfg.ncounts = sizeof(smoke_counts) / sizeof(smoke_counts[0]);
		if (!repeat_set)
			cfg.repeat = 10000;
		if (!runs_set)
			cfg.runs = 3;
	}
	libbpf_set_print(quiet_libbpf);

	rc = bench_miss_frame(&miss);
	if (!rc)
		rc = bench_bare(&cfg, &miss);
	if (!rc)
		rc = bench_sluice(&cfg, SL_HOOK_XDP, &miss);
	if (!rc)
		rc = bench_sluice(&cfg, SL_HOOK_TC_INGRESS, &miss);
	if (rc) {
		fprintf(stderr, "sluice-microbench: failed: %s\n", strerror(-rc));
		return 1;
	}
	if (cfg.json)
		print_json(&cfg);
	else
		print_table(&cfg);
	return 0;
bad:
	usage(stderr);
	return 2;
}
