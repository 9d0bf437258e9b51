// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <bpf/bpf.h>

#include "bench_timing.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int bench_time(int prog_fd, const void *frame, size_t len, int want_retval, uint32_t repeat,
	       uint32_t runs, struct bench_stat *out)
{
	static unsigned char data_out[4096];
	uint32_t dur[BENCH_MAX_RUNS];
	double wall[BENCH_MAX_RUNS];

	if (!runs || runs > BENCH_MAX_RUNS || !repeat)
		return -EINVAL;
	for (uint32_t r = 0; r < runs; r++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts,
			.data_in = frame,
			.data_size_in = (uint32_t)len,
			.data_out = data_out,
			.data_size_out = sizeof(data_out),
			.repeat = repeat);
		double t0 = now_ns();
		int rc = bpf_prog_test_run_opts(prog_fd, &opts);

		wall[r] = (now_ns() - t0) / repeat;
		if (rc)
			return rc < 0 ? rc : -EIO;
		if ((int)opts.retval != want_retval)
			return -EPROTO;
		dur[r] = opts.duration;
	}
	qsort(dur, runs, sizeof(dur[0]), cmp_u32);
	qsort(wall, runs, sizeof(wall[0]), cmp_double);
	out->median = dur[runs / 2];
	out->min = dur[0];
	out->max = dur[runs - 1];
	out->wall_median = wall[runs / 2];
	return 0;
}
