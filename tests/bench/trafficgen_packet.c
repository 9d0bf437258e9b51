// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* sendmmsg */
/*
 * AF_PACKET sender, the fallback when live frames are unavailable: one raw
 * socket per thread, bound to the device with protocol 0 so it never
 * receives, frames written in batches with sendmmsg(). PACKET_QDISC_BYPASS
 * hands frames straight to the driver, which then reports a full queue as
 * ENOBUFS instead of silently dropping; those frames are retried, so what
 * is counted as sent is what the driver took.
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "trafficgen.h"

static int open_socket(int ifindex)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = ifindex };
	/* A blocking send waits for buffer space; bound it so stop and deadline work. */
	struct timeval tmo = { .tv_sec = 0, .tv_usec = 100000 };
	int fd, one = 1;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo))) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	/* Best effort: without it frames take the qdisc path, which also works. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	return fd;
}

void *tg_packet_worker(void *arg)
{
	struct tg_job *job = arg;
	const struct tg_frame *f = job->frame;
	/* Every (address, port) pair: at most 65536 * 65535, below UINT_MAX - TG_MAX_BATCH. */
	unsigned int batch = job->cfg->batch, flows = job->cfg->flows * job->cfg->src_ips;
	unsigned int flow, i, n;
	struct mmsghdr *msgs = NULL;
	struct iovec *iov = NULL;
	uint8_t *bufs = NULL;
	int fd, r;

	fd = open_socket(job->ifindex);
	if (fd < 0) {
		job->err = fd;
		job->err_what = "AF_PACKET socket";
		return NULL;
	}
	msgs = calloc(batch, sizeof(*msgs));
	iov = calloc(batch, sizeof(*iov));
	bufs = malloc((size_t)batch * f->len);
	if (!msgs || !iov || !bufs) {
		job->err = -ENOMEM;
		job->err_what = "allocating the batch";
		goto out;
	}
	for (i = 0; i < batch; i++) {
		memcpy(bufs + (size_t)i * f->len, f->data, f->len);
		iov[i].iov_base = bufs + (size_t)i * f->len;
		iov[i].iov_len = f->len;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	/* Threads start on different flows so that together they cover them evenly. */
	flow = job->index % flows;
	while (!atomic_load(job->stop)) {
		if (job->deadline && tg_now() >= job->deadline)
			break;
		if (job->quota && job->sent >= job->quota)
			break;
		n = batch;
		if (job->quota && job->quota - job->sent < n)
			n = (unsigned int)(job->quota - job->sent);
		if (flows > 1)
			for (i = 0; i < n; i++)
				tg_frame_set_flow(bufs + (size_t)i * f->len, f, (flow + i) % flows);

		r = sendmmsg(fd, msgs, n, 0);
		if (r < 0) {
			/* Queue full or a signal: let the receiver catch up, then retry. */
			if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
				sched_yield();
				continue;
			}
			job->err = -errno;
			job->err_what = "sendmmsg";
			break;
		}
		job->sent += (unsigned int)r;
		flow = (flow + (unsigned int)r) % flows;
	}
out:
	free(bufs);
	free(iov);
	free(msgs);
	close(fd);
	return NULL;
}
