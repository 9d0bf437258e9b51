/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Timing one program on one frame with BPF_PROG_TEST_RUN: the kernel runs
 * it `repeat` times and reports the mean ns per run; several such runs
 * give a median and a spread.
 */
#ifndef SLUICE_BENCH_TIMING_H
#define SLUICE_BENCH_TIMING_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_RUNS 101

struct bench_stat {
	uint32_t median, min, max; /* kernel-reported ns per packet */
	double wall_median;        /* wall clock around the syscall / repeat */
};

/*
 * Times prog_fd on the frame; fails with -EPROTO if the program's return
 * value is not want_retval, so a benchmark never measures the wrong path.
 */
int bench_time(int prog_fd, const void *frame, size_t len, int want_retval, uint32_t repeat,
	       uint32_t runs, struct bench_stat *out);

#endif
