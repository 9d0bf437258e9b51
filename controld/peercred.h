/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Who may talk to sluiced: root, the daemon's own user, or the group sluice. */
#ifndef SLUICE_PEERCRED_H
#define SLUICE_PEERCRED_H

#include <stdbool.h>

/* Checks the peer of a connected UNIX socket; fills why when refused. */
bool sl_peer_allowed(int fd, char *why, size_t len);

#endif
