// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peercred.h"

/* Supplementary groups of a process, from /proc (the socket only carries the primary gid). */
static bool pid_in_group(pid_t pid, gid_t gid)
{
	char path[64], line[4096];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7))
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if ((gid_t)g == gid)
				found = true;
		}
		break;
	}
	fclose(f);
	return found;
}

bool sl_peer_allowed(int fd, char *why, size_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct group *grp;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen)) {
		snprintf(why, len, "cannot read peer credentials");
		return false;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	grp = getgrnam("sluice");
	if (grp && (cred.gid == grp->gr_gid || pid_in_group(cred.pid, grp->gr_gid)))
		return true;
	snprintf(why, len, "uid %u is not root and not in the group 'sluice'", (unsigned)cred.uid);
	return false;
}
