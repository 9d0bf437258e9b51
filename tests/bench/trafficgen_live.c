// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live-frames sender: BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES runs
 * trafficgen.bpf.c on kernel-allocated copies of the template frame, with
 * ingress_ifindex set to the output device. XDP_TX there is a real transmit
 * through the device's ndo_xdp_xmit, in batches of up to 256 frames, with no
 * socket buffers and no per-packet system call.
 *
 * Each call is one bounded chunk of repetitions, sized to last about 10 ms,
 * so the deadline and SIGINT are honoured promptly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "trafficgen.h"
#include "trafficgen.skel.h"

#ifndef BPF_F_TEST_XDP_LIVE_FRAMES
#define BPF_F_TEST_XDP_LIVE_FRAMES (1U << 1) /* missing from older UAPI headers */
#endif

#define CHUNK_FIRST 4096
#define CHUNK_MIN 64
#define CHUNK_MAX (1U << 22)
#define CHUNK_SECONDS 0.010

struct tg_live {
	struct trafficgen_bpf *skel;
	int prog_fd;
};

/* Mirrors struct tg_cpu_state of trafficgen.bpf.c. */
struct tg_cpu_state {
	uint64_t frames;
	uint32_t flow;
	uint32_t addr;
};

static int run_chunk(int prog_fd, const struct tg_frame *f, int ifindex, unsigned int batch,
		     uint32_t repeat)
{
	/* data_end must equal the frame size; the device is the one XDP_TX leaves by. */
	struct xdp_md ctx_in = { .data_end = f->len, .ingress_ifindex = (uint32_t)ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->data, .data_size_in = f->len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = (int)repeat,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = batch);
	int rc;

	rc = bpf_prog_test_run_opts(prog_fd, &opts);
	return rc < 0 ? -errno : 0;
}

/*
 * Loads the program and proves live frames work on this kernel and device
 * with one run in which the program is not armed yet: it drops the frame,
 * so nothing is sent and nothing counted. A failure here is the caller's
 * cue to fall back to AF_PACKET.
 */
int tg_live_open(struct tg_live **out, const struct tg_config *cfg, const struct tg_frame *f,
		 int ifindex)
{
	struct tg_live *lv;
	int rc;

	lv = calloc(1, sizeof(*lv));
	if (!lv)
		return -ENOMEM;
	lv->skel = trafficgen_bpf__open();
	if (!lv->skel) {
		rc = -errno;
		goto err;
	}
	lv->skel->rodata->nflows = cfg->flows;
	lv->skel->rodata->sport_base = f->sport;
	lv->skel->rodata->udp_csum_base = f->udp_csum;
	lv->skel->rodata->nsrcs = f->nsrcs;
	lv->skel->rodata->saddr_base = f->src_ip;
	lv->skel->rodata->ip_csum_partial = f->ip_csum_partial;
	lv->skel->rodata->udp_csum_partial = f->udp_csum_partial;
	/*
	 * The program restores these header bytes in every frame; the UDP
	 * checksum, the first byte past them, it computes per flow, and with
	 * several source addresses it patches those and the IPv4 checksum too.
	 */
	_Static_assert(sizeof(lv->skel->rodata->hdr_words) == TG_HDR_LEN - 2,
		       "the header words must end where the UDP checksum starts");
	memcpy(lv->skel->rodata->hdr_words, f->data, sizeof(lv->skel->rodata->hdr_words));
	if (trafficgen_bpf__load(lv->skel)) {
		rc = -errno;
		goto err;
	}
	lv->prog_fd = bpf_program__fd(lv->skel->progs.tg_xmit);

	rc = run_chunk(lv->prog_fd, f, ifindex, cfg->batch, 1);
	if (rc)
		goto err;
	lv->skel->bss->armed = 1;
	*out = lv;
	return 0;
err:
	tg_live_close(lv);
	return rc;
}

int tg_live_prog_fd(const struct tg_live *lv)
{
	return lv->prog_fd;
}

void *tg_live_worker(void *arg)
{
	struct tg_job *job = arg;
	uint32_t chunk = CHUNK_FIRST, n;
	double t0, dt, rate = 0, now;
	int rc;

	while (!atomic_load(job->stop)) {
		now = tg_now();
		if (job->deadline && now >= job->deadline)
			break;
		if (job->quota && job->sent >= job->quota)
			break;
		n = chunk;
		if (job->quota && job->quota - job->sent < n)
			n = (uint32_t)(job->quota - job->sent);
		/* Near the deadline, ask only for what fits before it. */
		if (job->deadline && rate > 0 && (job->deadline - now) * rate < n)
			n = (uint32_t)((job->deadline - now) * rate) + 1;

		t0 = tg_now();
		rc = run_chunk(job->prog_fd, job->frame, job->ifindex, job->cfg->batch, n);
		if (rc == -EINTR)
			continue; /* a signal: the loop checks why; the BPF count stays exact */
		if (rc) {
			job->err = rc;
			job->err_what = "BPF_PROG_TEST_RUN (live frames)";
			break;
		}
		job->sent += n;
		dt = tg_now() - t0;
		if (dt > 0) {
			double next = n * CHUNK_SECONDS / dt;

			rate = n / dt;
			if (n == chunk) /* only full chunks say how large one may be */
				chunk = next < CHUNK_MIN ? CHUNK_MIN :
					next > CHUNK_MAX ? CHUNK_MAX :
							   (uint32_t)next;
		}
	}
	return NULL;
}

/* Frames the program returned XDP_TX for, summed over CPUs. */
int tg_live_frames(const struct tg_live *lv, uint64_t *frames)
{
	int ncpus = libbpf_num_possible_cpus(), i, fd;
	struct tg_cpu_state *st;
	uint32_t key = 0;

	if (ncpus < 0)
		return ncpus;
	st = calloc((size_t)ncpus, sizeof(*st));
	if (!st)
		return -ENOMEM;
	fd = bpf_map__fd(lv->skel->maps.tg_state);
	if (bpf_map_lookup_elem(fd, &key, st)) {
		free(st);
		return -errno;
	}
	*frames = 0;
	for (i = 0; i < ncpus; i++)
		*frames += st[i].frames;
	free(st);
	return 0;
}

void tg_live_close(struct tg_live *lv)
{
	if (!lv)
		return;
	trafficgen_bpf__destroy(lv->skel);
	free(lv);
}
