// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/nsfs.h>

#include "netns.h"
#include "sl_log.h"

int sl_netns_open(const char *spec, int *fd, struct sl_err *err)
{
	char path[PATH_MAX];
	int nsfd, type;

	*fd = -1;
	if (!spec || !spec[0])
		return 0;
	if (!strncmp(spec, "pid:", 4)) {
		char *end;
		long pid;

		errno = 0;
		pid = strtol(spec + 4, &end, 10);
		if (errno || *end || end == spec + 4 || pid <= 0 || pid > INT_MAX)
			return sl_err_set(err, EINVAL, "'%s': expected pid:PID with a process id", spec);
		snprintf(path, sizeof(path), "/proc/%ld/ns/net", pid);
	} else if (spec[0] == '/') {
		if (strlen(spec) >= sizeof(path))
			return sl_err_set(err, EINVAL, "namespace path too long");
		snprintf(path, sizeof(path), "%s", spec);
	} else {
		if (strchr(spec, '/') || !strcmp(spec, ".") || !strcmp(spec, "..") ||
		    strlen(spec) > NAME_MAX)
			return sl_err_set(err, EINVAL, "'%s' is not a valid namespace name", spec);
		snprintf(path, sizeof(path), "/run/netns/%s", spec);
	}

	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0)
		return sl_err_set(err, errno == ENOENT || errno == ESRCH ? ENOENT : errno,
				  "network namespace '%s' (%s): %s", spec, path, strerror(errno));
	type = ioctl(nsfd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET) {
		close(nsfd);
		return sl_err_set(err, EINVAL, "'%s' (%s) is not a network namespace", spec, path);
	}
	*fd = nsfd;
	return 0;
}

int sl_netns_ino(int fd, uint64_t *ino)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int sl_netns_self_ino(uint64_t *ino)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

int sl_netns_enter(int fd, int *saved, struct sl_err *err)
{
	*saved = -1;
	if (fd < 0)
		return 0;
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0)
		return sl_err_set(err, errno, "cannot open own network namespace: %s",
				  strerror(errno));
	if (setns(fd, CLONE_NEWNET)) {
		int e = errno;

		close(*saved);
		*saved = -1;
		return sl_err_set(err, e, "cannot enter network namespace: %s", strerror(e));
	}
	return 0;
}

void sl_netns_leave(int saved)
{
	if (saved < 0)
		return;
	/* Failing to return would leave every later operation in the wrong namespace. */
	if (setns(saved, CLONE_NEWNET)) {
		sl_log(SL_LOG_ERROR, "cannot return to own network namespace: %s", strerror(errno));
		abort();
	}
	close(saved);
}

int sl_netns_sysctl_set(int fd, const char *path, const char *value, char *was,
			struct sl_err *err)
{
	int saved, rc;
	FILE *f;

	rc = sl_netns_enter(fd, &saved, err);
	if (rc)
		return rc;
	f = fopen(path, "r+e");
	if (!f) {
		rc = sl_err_set(err, errno, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	if (fread(was, 1, 1, f) != 1)
		*was = '?';
	rewind(f);
	if (fputs(value, f) == EOF || fflush(f) == EOF)
		rc = sl_err_set(err, errno, "cannot write %s: %s", path, strerror(errno));
	fclose(f);
out:
	sl_netns_leave(saved);
	return rc;
}

/* Opens path when it is the network namespace ino; -1 otherwise. */
static int open_if_ino(const char *path, uint64_t ino)
{
	struct stat st;
	int fd;

	if (stat(path, &st) || (uint64_t)st.st_ino != ino)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
		close(fd);
		return -1;
	}
	return fd;
}

int sl_netns_open_by_ino(uint64_t ino, int *fd)
{
	static const char *const dirs[] = { "/run/netns", "/proc" };
	char path[PATH_MAX];
	uint64_t self = 0;

	*fd = -1;
	if (!sl_netns_self_ino(&self) && self == ino)
		return 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			bool proc = i == 1;

			if (e->d_name[0] == '.' || (proc && (e->d_name[0] < '0' || e->d_name[0] > '9')))
				continue;
			if (snprintf(path, sizeof(path), proc ? "%s/%s/ns/net" : "%s/%s", dirs[i],
				     e->d_name) >= (int)sizeof(path))
				continue;
			*fd = open_if_ino(path, ino);
			if (*fd >= 0) {
				closedir(d);
				return 0;
			}
		}
		closedir(d);
	}
	return -ENOENT;
}
