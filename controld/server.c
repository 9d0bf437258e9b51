// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "conntrack.h"
#include "peercred.h"
#include "state.h"
#include "protocol.h"
#include "server.h"
#include "sl_log.h"

/* Past this much unsent output a client's input is left unread until it catches up. */
#define SL_WBUF_PAUSE (1 << 20)

struct client {
	int fd;
	char rbuf[SL_MAX_LINE];
	size_t rlen;
	char *wbuf;
	size_t wlen, wcap, woff;
	bool closing; /* close once wbuf is flushed */
	bool paused;  /* EPOLLIN off because of backpressure */
};

static struct client *clients[SL_MAX_CLIENTS];

int sl_server_listen(const char *path, int *out, struct sl_err *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct group *grp;
	int fd, probe;

	if (strlen(path) >= sizeof(addr.sun_path))
		return sl_err_set(err, ENAMETOOLONG, "socket path '%s' is too long", path);
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);

	/* A socket file nobody answers on is a leftover; one that answers is a live daemon. */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0) {
		if (connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0) {
			close(probe);
			return sl_err_set(err, EADDRINUSE,
					  "another sluiced is already serving %s", path);
		}
		close(probe);
	}
	unlink(path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sl_err_set(err, errno, "socket: %s", strerror(errno));
	/* Created 0660 from the start: no window where others could connect. */
	mode_t old = umask(0117);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		int e = errno;

		umask(old);
		close(fd);
		return sl_err_set(err, e, "cannot bind %s: %s", path, strerror(e));
	}
	umask(old);
	grp = getgrnam("sluice");
	if (grp && chown(path, 0, grp->gr_gid))
		sl_log(SL_LOG_WARN, "cannot give %s to group sluice: %s", path, strerror(errno));
	if (listen(fd, 64)) {
		int e = errno;

		close(fd);
		return sl_err_set(err, e, "listen: %s", strerror(e));
	}
	*out = fd;
	return 0;
}

static void client_close(int epfd, struct client *c)
{
	for (int i = 0; i < SL_MAX_CLIENTS; i++)
		if (clients[i] == c)
			clients[i] = NULL;
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->wbuf);
	free(c);
}

static int client_queue(struct client *c, const char *reply)
{
	size_t n = strlen(reply) + 1;

	if (c->wlen + n > c->wcap) {
		size_t cap = c->wcap ? c->wcap : 4096;
		char *grown;

		while (cap < c->wlen + n)
			cap *= 2;
		grown = realloc(c->wbuf, cap);
		if (!grown)
			return -ENOMEM;
		c->wbuf = grown;
		c->wcap = cap;
	}
	memcpy(c->wbuf + c->wlen, reply, n - 1);
	c->wbuf[c->wlen + n - 1] = '\n';
	c->wlen += n;
	return 0;
}

static void client_update_events(int epfd, struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };

	c->paused = c->closing || c->wlen - c->woff > SL_WBUF_PAUSE;
	ev.events = (c->paused ? 0 : EPOLLIN) | (c->wlen > c->woff ? EPOLLOUT : 0);
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns -1 when the client is gone. */
static int client_flush(struct client *c)
{
	while (c->woff < c->wlen) {
		ssize_t n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -1;
		}
		c->woff += (size_t)n;
	}
	c->woff = c->wlen = 0;
	return c->closing ? -1 : 0;
}

static int reply_to(struct client *c, char *reply)
{
	int rc;

	if (!reply)
		return -ENOMEM;
	rc = client_queue(c, reply);
	free(reply);
	return rc;
}

/* Handles every complete line in rbuf. Returns -1 to drop the client. */
static int client_process(struct sl_daemon *d, struct client *c)
{
	size_t start = 0;

	while (start < c->rlen && !c->closing) {
		char *nl = memchr(c->rbuf + start, '\n', c->rlen - start);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (c->rbuf + start));
		/* Blank lines (and a CR before the newline) are tolerated. */
		if (len && c->rbuf[start + len - 1] == '\r')
			len--;
		if (len && reply_to(c, sl_protocol_handle(d, c->rbuf + start, len)))
			return -1;
		start = (size_t)(nl - c->rbuf) + 1;
		if (c->wlen - c->woff > SL_WBUF_PAUSE)
			break; /* the rest waits until the client reads its replies */
	}
	memmove(c->rbuf, c->rbuf + start, c->rlen - start);
	c->rlen -= start;
	if (c->rlen == sizeof(c->rbuf) && !memchr(c->rbuf, '\n', c->rlen)) {
		sl_log(SL_LOG_WARN, "client %d sent a line over %d bytes; closing it", c->fd,
		       SL_MAX_LINE);
		if (reply_to(c, sl_protocol_error_reply("EMSGSIZE",
							"request line longer than 65536 bytes")))
			return -1;
		c->closing = true;
		c->rlen = 0;
	}
	return 0;
}

/*
 * After any I/O: send what is queued, serve request lines held back by
 * backpressure once the output has drained below the mark (no new input may
 * ever come to wake them), then wait for what the client needs next.
 */
static void client_settle(struct sl_daemon *d, int epfd, struct client *c)
{
	for (;;) {
		if (client_flush(c)) {
			client_close(epfd, c);
			return;
		}
		if (c->closing || c->wlen - c->woff > SL_WBUF_PAUSE ||
		    !memchr(c->rbuf, '\n', c->rlen))
			break;
		if (client_process(d, c)) {
			client_close(epfd, c);
			return;
		}
	}
	client_update_events(epfd, c);
}

static void client_readable(struct sl_daemon *d, int epfd, struct client *c)
{
	ssize_t n = recv(c->fd, c->rbuf + c->rlen, sizeof(c->rbuf) - c->rlen, MSG_DONTWAIT);

	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		client_close(epfd, c);
		return;
	}
	if (n == 0) {
		/* The peer finished sending (shutdown): answer what it sent, then close. */
		if (!c->closing && client_process(d, c)) {
			client_close(epfd, c);
			return;
		}
		c->closing = true;
	} else if (n > 0) {
		c->rlen += (size_t)n;
		if (client_process(d, c)) {
			client_close(epfd, c);
			return;
		}
	}
	client_settle(d, epfd, c);
}

static void client_writable(struct sl_daemon *d, int epfd, struct client *c)
{
	if (client_flush(c)) {
		client_close(epfd, c);
		return;
	}
	client_settle(d, epfd, c);
}

/* Tells a refused peer why, best effort, without waiting for it. */
static void refuse(int fd, const char *code, const char *why)
{
	char *reply = sl_protocol_error_reply(code, why);

	if (reply) {
		size_t len = strlen(reply);

		reply[len] = '\n';
		if (send(fd, reply, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			sl_log(SL_LOG_DEBUG, "could not tell refused peer: %s", strerror(errno));
		free(reply);
	}
	close(fd);
}

static void accept_clients(int epfd, int lfd)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		char why[128];
		struct client *c;
		int fd, slot;

		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (!sl_peer_allowed(fd, why, sizeof(why))) {
			sl_log(SL_LOG_WARN, "refused a client: %s", why);
			refuse(fd, "EPERM", why);
			continue;
		}
		for (slot = 0; slot < SL_MAX_CLIENTS && clients[slot]; slot++)
			;
		if (slot == SL_MAX_CLIENTS) {
			sl_log(SL_LOG_WARN, "refused a client: %d clients already connected",
			       SL_MAX_CLIENTS);
			refuse(fd, "EBUSY", "too many clients connected to sluiced");
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		ev.data.ptr = c;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev)) {
			close(fd);
			free(c);
			continue;
		}
		clients[slot] = c;
	}
}

/* Link changes in our namespace: interfaces that come and go are noticed at once. */
static int link_watch_open(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads every pending notification; their content does not matter, only that one came. */
static void link_watch_drain(int fd)
{
	char buf[8192];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* Attach points whose interface or namespace came or went, and a failed save, are retried. */
static void resync(struct sl_daemon *d)
{
	if (sl_ruleset_resync(d->rules))
		sl_log(SL_LOG_DEBUG, "resync: attach points changed state");
	if (d->state_dirty)
		sl_state_changed(d);
}

/*
 * A timerfd firing every `seconds`, in epfd with *slot as its tag (the loop
 * tells timers apart by the address of the variable holding their fd).
 * -1 when it cannot be made; the loop then goes without it.
 */
static int periodic_timer(int epfd, time_t seconds, int *slot)
{
	struct itimerspec every = { .it_interval = { seconds, 0 }, .it_value = { seconds, 0 } };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = slot };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);

	if (fd >= 0) {
		timerfd_settime(fd, 0, &every, NULL);
		epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
	}
	return fd;
}

int sl_server_run(struct sl_daemon *d, int lfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int epfd, sigfd, timerfd, resyncfd, linkfd, rc = 0;
	sigset_t mask;
	bool running = true;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sigfd < 0 || epfd < 0)
		return -errno;
	ev.data.ptr = &sigfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	ev.data.ptr = &lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	/* Expired translated flows leave conntrack on a timer, so listings show live ones. */
	timerfd = d->ct ? periodic_timer(epfd, SL_CT_EXPIRE_PERIOD_S, &timerfd) : -1;
	/* Namespaces are polled: a container's namespace can come back under the same name. */
	resyncfd = periodic_timer(epfd, SL_RESYNC_PERIOD_S, &resyncfd);
	linkfd = link_watch_open();
	if (linkfd >= 0) {
		ev.data.ptr = &linkfd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, linkfd, &ev);
	}

	while (running) {
		struct epoll_event events[64];
		int n = epoll_wait(epfd, events, 64, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;

			if (p == &sigfd) {
				struct signalfd_siginfo si;

				if (read(sigfd, &si, sizeof(si)) == sizeof(si))
					sl_log(SL_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
				running = false;
			} else if (p == &timerfd) {
				uint64_t ticks;
				unsigned int removed = 0;

				if (read(timerfd, &ticks, sizeof(ticks)) == sizeof(ticks) &&
				    !sl_dp_ct_expire(d->ct, &removed) && removed)
					sl_log(SL_LOG_DEBUG, "conntrack: %u flows expired", removed);
			} else if (p == &resyncfd) {
				uint64_t ticks;

				if (read(resyncfd, &ticks, sizeof(ticks)) == sizeof(ticks))
					resync(d);
			} else if (p == &linkfd) {
				link_watch_drain(linkfd);
				resync(d);
			} else if (p == &lfd) {
				accept_clients(epfd, lfd);
			} else if (events[i].events & (EPOLLERR | EPOLLHUP) &&
				   !(events[i].events & EPOLLIN)) {
				client_close(epfd, p);
			} else if (events[i].events & EPOLLIN) {
				client_readable(d, epfd, p);
			} else if (events[i].events & EPOLLOUT) {
				client_writable(d, epfd, p);
			}
		}
	}
	for (int i = 0; i < SL_MAX_CLIENTS; i++)
		if (clients[i])
			client_close(epfd, clients[i]);
	close(epfd);
	close(sigfd);
	if (timerfd >= 0)
		close(timerfd);
	if (resyncfd >= 0)
		close(resyncfd);
	if (linkfd >= 0)
		close(linkfd);
	return rc;
}
