/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control socket: one epoll loop serving many clients. Nothing blocks:
 * a slow, idle or vanished client only ever holds up itself.
 */
#ifndef SLUICE_SERVER_H
#define SLUICE_SERVER_H

#include "daemon.h"

#define SL_MAX_CLIENTS 256

/* Creates the listening socket (mode 0660, group sluice if it exists). */
int sl_server_listen(const char *path, int *fd, struct sl_err *err);

/* Serves until SIGTERM or SIGINT; returns 0 or a negative errno. */
int sl_server_run(struct sl_daemon *d, int listen_fd);

#endif
