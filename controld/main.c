// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sluiced: owns sluice's BPF programs and maps; serves sluicectl and scripts. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "apply.h"
#include "conntrack.h"
#include "daemon.h"
#include "pin.h"
#include "server.h"
#include "sl_log.h"
#include "state.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

enum { OPT_CT_MAX = 256, OPT_CT_TIMEOUT, OPT_NAT_PORTS, OPT_CLEANUP, OPT_KEEP_STATE, OPT_CONFIG, OPT_MAX_RULES };

#define DEFAULT_MAX_RULES 1048576

#define DEFAULT_SOCKET "/run/sluice/sluiced.sock"
#define DEFAULT_STATE_DIR "/var/lib/sluice"
#define DEFAULT_BPFFS "/sys/fs/bpf/sluice"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: sluiced [OPTIONS]\n"
		"\n"
		"The sluice control daemon: attaches XDP and TC programs and keeps their rules.\n"
		"Runs in the foreground and logs to stderr; ready once the socket accepts.\n"
		"\n"
		"Options:\n"
		"  -s, --socket PATH       control socket (default " DEFAULT_SOCKET ")\n"
		"  -d, --state-dir DIR     state directory (default " DEFAULT_STATE_DIR ")\n"
		"  -b, --bpffs DIR         BPF filesystem directory for pins (default " DEFAULT_BPFFS ")\n"
		"  -r, --rule-slots N      rules per interface and hook (default 131072)\n"
		"      --max-rules N       rules in total (default 1048576)\n"
		"      --ct-max N          translated flows conntrack holds (default 32768)\n"
		"      --ct-timeout NAME=SECONDS\n"
		"                          idle timeout of a flow state, repeatable: tcp-syn (60),\n"
		"                          tcp-established (21600), tcp-close (10), udp (30), icmp (30)\n"
		"      --nat-ports LO-HI   source ports for flows that would collide after a\n"
		"                          translation (default 32768-60999)\n"
		"  -c, --config FILE       apply this rule set (sluicectl export's form) at start,\n"
		"                          on top of the saved state: all or nothing\n"
		"      --cleanup           remove every program, map and pin a previous sluiced\n"
		"                          left (and its saved rules), then exit\n"
		"      --keep-state        with --cleanup: keep the saved rules, so the next\n"
		"                          sluiced installs them again\n"
		"  -l, --log-level LEVEL   error, warn, info (default) or debug\n"
		"  -V, --version           print the version and exit\n"
		"  -h, --help              print this help and exit\n"
		"\n"
		"The rules are saved in STATE_DIR/rules.json after every change, and programs,\n"
		"counters and conntrack are pinned under the bpffs directory: when sluiced stops\n"
		"(SIGTERM) or dies, the datapath keeps working, and the next sluiced takes it over\n"
		"without a gap. `sluicectl flush` or `sluiced --cleanup` removes it.\n"
		"\n"
		"Several daemons may run side by side with different socket, state and bpffs paths.\n"
		"Talk to it with sluicectl(8); the protocol is in\n"
		"/usr/share/doc/sluice/protocol.md (docs/protocol.md in the source).\n");
}

/* mkdir -p, leaving existing directories alone. */
static int mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

/* libxdp pins its dispatchers under /sys/fs/bpf, and sluice pins under --bpffs. */
static int setup_bpffs(const char *dir)
{
	int rc;

	if (!is_bpffs("/sys/fs/bpf")) {
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
			sl_log(SL_LOG_ERROR, "cannot mount bpffs on /sys/fs/bpf: %s", strerror(errno));
			return -errno;
		}
		sl_log(SL_LOG_INFO, "mounted bpffs on /sys/fs/bpf");
	}
	rc = mkdirs(dir, 0700);
	if (rc) {
		sl_log(SL_LOG_ERROR, "cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (!is_bpffs(dir)) {
		sl_log(SL_LOG_ERROR, "%s is not on a BPF filesystem", dir);
		return -ENOTDIR;
	}
	return 0;
}

static int parse_slots(const char *text, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || *end || !text[0] || text[0] == '-' || v < 1 || v > 16777216)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* Whether a daemon answers on the socket. */
static bool daemon_running(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	if (fd < 0)
		return false;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	up = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
	close(fd);
	return up;
}

static void remove_state_file(const struct sl_daemon *d, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, name);
	if (unlink(path) && errno != ENOENT)
		sl_log(SL_LOG_WARN, "cannot remove %s: %s", path, strerror(errno));
}

static int cleanup(const struct sl_daemon *d, bool keep_state)
{
	char path[PATH_MAX];
	int n;

	if (daemon_running(d->socket_path)) {
		sl_log(SL_LOG_ERROR, "a sluiced is serving %s: stop it first, or use `sluicectl flush`",
		       d->socket_path);
		return 1;
	}
	n = sl_pin_sweep_hooks(d->bpffs, NULL, NULL);
	if (n < 0) {
		sl_log(SL_LOG_ERROR, "cannot read %s: %s", d->bpffs, strerror(-n));
		return 1;
	}
	sl_dp_ct_unpin(d->bpffs);
	snprintf(path, sizeof(path), "%s/%s", d->bpffs, SL_PIN_HOOKS);
	rmdir(path);
	if (rmdir(d->bpffs) && errno != ENOENT)
		sl_log(SL_LOG_WARN, "cannot remove %s: %s", d->bpffs, strerror(errno));
	if (keep_state) {
		sl_log(SL_LOG_INFO, "cleanup: removed %d attach points and the conntrack maps; the saved rules stay in %s",
		       n, d->state_dir);
		return 0;
	}
	/* The journal goes too: replayed over a later rules.json it would bring rules back. */
	remove_state_file(d, SL_STATE_FILE);
	remove_state_file(d, SL_JOURNAL_FILE);
	sl_log(SL_LOG_INFO, "cleanup: removed %d attach points, the conntrack maps and the saved rules",
	       n);
	return 0;
}

static int apply_config(struct sl_daemon *d, const char *file)
{
	struct sl_err err = { 0 };
	json_error_t jerr;
	struct sl_doc doc;
	json_t *root, *result = NULL;
	int rc;

	root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		sl_log(SL_LOG_ERROR, "--config %s: line %d: %s", file, jerr.line, jerr.text);
		return -EINVAL;
	}
	rc = sl_doc_parse(root, false, &doc, &err);
	json_decref(root);
	if (!rc) {
		rc = sl_apply(d, &doc, false, &result, &err);
		sl_doc_free(&doc);
	}
	if (rc) {
		sl_log(SL_LOG_ERROR, "--config %s: %s", file, err.msg);
		return rc;
	}
	sl_log(SL_LOG_INFO, "--config %s: %zu added, %zu deleted, %lld kept", file,
	       json_array_size(json_object_get(result, "added")),
	       json_array_size(json_object_get(result, "deleted")),
	       (long long)json_integer_value(json_object_get(result, "kept")));
	json_decref(result);
	return 0;
}

static bool owned_pin_dir(const char *dir, void *rules)
{
	return sl_ruleset_owns_pin_dir(rules, dir);
}

/*
 * Takes over what a previous daemon left: its saved rules, its pinned
 * programs, counters and conntrack. Nothing is detached on the way.
 */
static int restore(struct sl_daemon *d)
{
	struct sl_err err = { 0 };
	bool found;
	int n;

	if (sl_state_load(d, &found, &err)) {
		sl_log(SL_LOG_ERROR, "%s", err.msg);
		sl_log(SL_LOG_ERROR, "refusing to start: the datapath in place stays as it is; repair the file, or remove it and the datapath with `sluiced --cleanup`");
		return -EINVAL;
	}
	if (!found && sl_pin_has_hooks(d->bpffs)) {
		sl_log(SL_LOG_ERROR, "%s/%s is missing, but %s holds a datapath a previous sluiced left",
		       d->state_dir, SL_STATE_FILE, d->bpffs);
		sl_log(SL_LOG_ERROR, "refusing to start with no rules over it: restore the state file, or remove the datapath with `sluiced --cleanup`");
		return -ENOENT;
	}
	sl_ruleset_resync(d->rules);
	n = sl_pin_sweep_hooks(d->bpffs, owned_pin_dir, d->rules);
	if (n > 0)
		sl_log(SL_LOG_INFO, "removed %d attach points no rule uses any more", n);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "bpffs", required_argument, NULL, 'b' },
		{ "rule-slots", required_argument, NULL, 'r' },
		{ "ct-max", required_argument, NULL, OPT_CT_MAX },
		{ "ct-timeout", required_argument, NULL, OPT_CT_TIMEOUT },
		{ "nat-ports", required_argument, NULL, OPT_NAT_PORTS },
		{ "config", required_argument, NULL, 'c' },
		{ "max-rules", required_argument, NULL, OPT_MAX_RULES },
		{ "cleanup", no_argument, NULL, OPT_CLEANUP },
		{ "keep-state", no_argument, NULL, OPT_KEEP_STATE },
		{ "log-level", required_argument, NULL, 'l' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct sl_daemon d = {
		.socket_path = DEFAULT_SOCKET,
		.state_dir = DEFAULT_STATE_DIR,
		.bpffs = DEFAULT_BPFFS,
	};
	struct sl_dp_opts dp_opts = { 0 };
	struct sl_ct_opts ct_opts = { 0 };
	struct sl_err err = { 0 };
	enum sl_log_level level;
	struct sl_port_range ports;
	const char *config = NULL;
	bool do_cleanup = false, keep_state = false;
	uint32_t max_rules = DEFAULT_MAX_RULES;
	char sockdir[PATH_MAX];
	int c, lfd, rc;

	while ((c = getopt_long(argc, argv, "s:d:b:r:c:l:Vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case OPT_CLEANUP: do_cleanup = true; break;
		case OPT_KEEP_STATE: keep_state = true; break;
		case OPT_MAX_RULES:
			if (parse_slots(optarg, &max_rules)) {
				fprintf(stderr, "sluiced: --max-rules: '%s' is not 1-16777216\n", optarg);
				return 2;
			}
			break;
		case 's': d.socket_path = optarg; break;
		case 'd': d.state_dir = optarg; break;
		case 'b': d.bpffs = optarg; break;
		case 'r':
			if (parse_slots(optarg, &dp_opts.rule_slots)) {
				fprintf(stderr, "sluiced: --rule-slots: '%s' is not 1-16777216\n", optarg);
				return 2;
			}
			break;
		case OPT_CT_MAX:
			if (parse_slots(optarg, &ct_opts.max_flows) || ct_opts.max_flows > 4194304) {
				fprintf(stderr, "sluiced: --ct-max: '%s' is not 1-4194304\n", optarg);
				return 2;
			}
			break;
		case OPT_CT_TIMEOUT:
			if (sl_ct_timeout_parse(optarg, &ct_opts, &err)) {
				fprintf(stderr, "sluiced: --ct-timeout: %s\n", err.msg);
				return 2;
			}
			break;
		case OPT_NAT_PORTS:
			if (sl_parse_port_range(optarg, &ports, &err) || ports.lo < 1) {
				fprintf(stderr, "sluiced: --nat-ports: '%s' is not a range LO-HI of ports 1-65535\n",
					optarg);
				return 2;
			}
			ct_opts.port_lo = ports.lo;
			ct_opts.port_hi = ports.hi;
			break;
		case 'l':
			if (sl_log_parse_level(optarg, &level)) {
				fprintf(stderr, "sluiced: --log-level: '%s' is not error, warn, info or debug\n",
					optarg);
				return 2;
			}
			sl_log_set_level(level);
			break;
		case 'V': printf("sluiced %s\n", SLUICE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluiced: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (keep_state && !do_cleanup) {
		fprintf(stderr, "sluiced: --keep-state goes with --cleanup\n");
		return 2;
	}
	if (geteuid() != 0)
		sl_log(SL_LOG_WARN, "not running as root: loading BPF programs will likely fail");

	sl_log_hook_libs();
	/* Before any directory is made: a package's removal runs this, and leaves nothing. */
	if (do_cleanup)
		return cleanup(&d, keep_state);
	if (setup_bpffs(d.bpffs))
		return 1;
	rc = mkdirs(d.state_dir, 0700);
	if (rc) {
		sl_log(SL_LOG_ERROR, "cannot create state dir %s: %s", d.state_dir, strerror(-rc));
		return 1;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", d.socket_path);
	if (strrchr(sockdir, '/') && strrchr(sockdir, '/') != sockdir) {
		*strrchr(sockdir, '/') = '\0';
		rc = mkdirs(sockdir, 0755);
		if (rc) {
			sl_log(SL_LOG_ERROR, "cannot create %s: %s", sockdir, strerror(-rc));
			return 1;
		}
	}

	ct_opts.pin_root = d.bpffs;
	dp_opts.pin_root = d.bpffs;
	if (sl_dp_ct_new(&ct_opts, &d.ct, &err)) {
		sl_log(SL_LOG_ERROR, "%s", err.msg);
		return 1;
	}
	dp_opts.ct = d.ct;
	d.rules = sl_ruleset_new(&dp_opts);
	if (!d.rules) {
		sl_log(SL_LOG_ERROR, "out of memory");
		sl_dp_ct_free(d.ct);
		return 1;
	}
	sl_ruleset_set_max(d.rules, max_rules);
	d.started = time(NULL);
	if (restore(&d) || (config && apply_config(&d, config))) {
		sl_ruleset_release(d.rules);
		sl_dp_ct_free(d.ct);
		return 1;
	}
	sl_state_changed(&d);
	/* The state file's parse tree is gone: give its pages back (see sl_cmd_apply). */
	malloc_trim(0);
	if (sl_server_listen(d.socket_path, &lfd, &err)) {
		sl_log(SL_LOG_ERROR, "%s", err.msg);
		sl_ruleset_release(d.rules);
		sl_dp_ct_free(d.ct);
		return 1;
	}
	sl_log(SL_LOG_INFO, "sluiced %s ready on %s (%zu rules)", SLUICE_VERSION, d.socket_path,
	       sl_ruleset_count(d.rules));
	/* Type=notify: systemd orders dependents after this, when clients can connect. */
	rc = sd_notifyf(0, "READY=1\nSTATUS=serving %s, %zu rules\nMAINPID=%d", d.socket_path,
			sl_ruleset_count(d.rules), (int)getpid());
	if (rc < 0)
		sl_log(SL_LOG_WARN, "cannot tell the service manager that sluiced is ready: %s",
		       strerror(-rc));
	rc = sl_server_run(&d, lfd);
	sd_notify(0, "STOPPING=1");
	close(lfd);
	unlink(d.socket_path);
	if (d.state_dirty)
		sl_state_changed(&d);
	/* The datapath stays in place (pinned), for the next sluiced to take over. */
	sl_ruleset_release(d.rules);
	sl_dp_ct_free(d.ct);
	free(d.staging.text);
	sl_log(SL_LOG_INFO, "stopped; the datapath stays in place");
	return rc ? 1 : 0;
}
