// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* sched_getaffinity, CPU_* and pthread_attr_setaffinity_np */
/*
 * sluice-trafficgen: sends synthetic Ethernet/IPv4/UDP frames out of an
 * interface as fast as the kernel takes them, to load an XDP program on the
 * other end (a veth peer, usually). The fast path is XDP live frames; the
 * fallback is AF_PACKET. It reports what it handed to the transmit path,
 * which is not proof of reception: the receiver's own counters say that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/libbpf.h>

#include "trafficgen.h"

#define EXIT_USAGE 2
#define DEFAULT_DURATION 2.0
/* --count alone still ends: a path that stopped taking frames must not hang a script. */
#define COUNT_ONLY_CAP 60.0
#define MAX_DURATION 3600.0
/* 4096 - XDP headroom - struct xdp_page_head - skb_shared_info, roughly */
#define LIVE_SIZE_HINT 3400

static atomic_bool stop_requested;

double tg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
	fprintf(out,
"Usage: sluice-trafficgen --dev IF [OPTIONS]\n"
"\n"
"Sends UDP/IPv4 frames out of IF as fast as the kernel takes them, to load an\n"
"XDP program on the receiving end (e.g. the peer of a veth), and reports how\n"
"many it handed to the transmit path.\n"
"\n"
"Options:\n"
"  --dev IF          interface to transmit out of (required)\n"
"  --netns NAME      enter network namespace NAME (/run/netns/NAME, or a path)\n"
"                    first; IF is looked up there\n"
"  --mode MODE       live: XDP live frames (BPF_PROG_TEST_RUN with\n"
"                    BPF_F_TEST_XDP_LIVE_FRAMES, XDP_TX out of IF);\n"
"                    packet: AF_PACKET sendmmsg(); auto (default): live if this\n"
"                    kernel and IF support it, else packet\n"
"  --size BYTES      frame size without FCS, %d-%d (default 64); at most IF's\n"
"                    MTU + 14\n"
"  --flows N         vary the UDP source port over N ports (default 1)\n"
"  --src-ips N       vary the IPv4 source over N consecutive addresses from\n"
"                    --src-ip, 1-%d (default 1). The flows are every\n"
"                    (address, port) pair, N * --flows in all; flow f has port\n"
"                    --sport + f %% --flows and address --src-ip + f / --flows,\n"
"                    so ports vary fastest, each thread cycling through all\n"
"                    flows in that order (packet mode: thread t starts at f = t)\n"
"  --sport PORT      first UDP source port (default 10000)\n"
"  --dport PORT      UDP destination port (default 9)\n"
"  --src-ip ADDR     IPv4 source (default 10.0.0.1)\n"
"  --dst-ip ADDR     IPv4 destination (default 10.0.0.2)\n"
"  --src-mac MAC     default: IF's own address\n"
"  --dst-mac MAC     default: for a veth, its peer's address (read even when the\n"
"                    peer is in another namespace); else the neighbour entry of\n"
"                    --dst-ip on IF if one is resolved; else ff:ff:ff:ff:ff:ff\n"
"  --duration SEC    stop after SEC seconds (default 2 unless --count is given)\n"
"  --count N         stop after N packets; with --duration, whichever comes\n"
"                    first; alone, it fails if N are not sent within %.0f s\n"
"  --threads N       sending threads, each pinned to its own CPU among those\n"
"                    the process may use, in order (default 1; choose the CPUs\n"
"                    with taskset)\n"
"  --batch N         frames per kernel batch, 1-%d (default 64)\n"
"  --json            print the report as one line of JSON\n"
"  -h, --help        show this help\n"
"\n"
"\"packets\" in the report counts frames handed to IF's transmit path: in live\n"
"mode the XDP_TX verdicts of the generator program (counted in BPF, exact even\n"
"if interrupted), in packet mode the frames sendmmsg() accepted. Neither proves\n"
"the receiver got them; compare with the receiver's counters. IF's own tx\n"
"counters (dev_tx_packets, dev_tx_dropped) are reported as a hint.\n"
"\n"
"For a veth, live frames need the peer to have an XDP program attached or GRO\n"
"enabled (ethtool -K PEER gro on); otherwise the kernel discards them silently.\n"
"With --threads N, give the veth N queues (ip link add ... numrxqueues N\n"
"numtxqueues N, on both ends): threads sharing one peer ring contend for it\n"
"and overflow it (dev_tx_dropped).\n"
"\n"
"Exit status: 0 sent, 1 failed, 2 usage error.\n",
		TG_MIN_FRAME, TG_MAX_FRAME, TG_MAX_SRC_IPS, COUNT_ONLY_CAP, TG_MAX_BATCH);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	uint64_t v;
	int rc = parse_u64(s, min, max, &v);

	if (!rc)
		*out = (unsigned int)v;
	return rc;
}

enum {
	OPT_DEV = 256,
	OPT_NETNS,
	OPT_MODE,
	OPT_SIZE,
	OPT_FLOWS,
	OPT_SRC_IPS,
	OPT_SPORT,
	OPT_DPORT,
	OPT_SRC_IP,
	OPT_DST_IP,
	OPT_SRC_MAC,
	OPT_DST_MAC,
	OPT_DURATION,
	OPT_COUNT,
	OPT_THREADS,
	OPT_BATCH,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{ "dev", required_argument, NULL, OPT_DEV },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "flows", required_argument, NULL, OPT_FLOWS },
	{ "src-ips", required_argument, NULL, OPT_SRC_IPS },
	{ "sport", required_argument, NULL, OPT_SPORT },
	{ "dport", required_argument, NULL, OPT_DPORT },
	{ "src-ip", required_argument, NULL, OPT_SRC_IP },
	{ "dst-ip", required_argument, NULL, OPT_DST_IP },
	{ "src-mac", required_argument, NULL, OPT_SRC_MAC },
	{ "dst-mac", required_argument, NULL, OPT_DST_MAC },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int bad_value(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "sluice-trafficgen: --%s '%s': %s\n", opt, val, want);
	return -EINVAL;
}

static int allowed_cpus(cpu_set_t *set)
{
	CPU_ZERO(set);
	if (sched_getaffinity(0, sizeof(*set), set))
		return -errno;
	return CPU_COUNT(set);
}

/* Returns 0, 1 when help was printed, or -EINVAL (message printed). */
static int parse_args(int argc, char **argv, struct tg_config *cfg)
{
	unsigned int sport = 10000, dport = 9, ncpus;
	uint64_t v;
	cpu_set_t cpus;
	char *end;
	int opt, rc;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = TG_MODE_AUTO;
	cfg->size = 64;
	cfg->flows = 1;
	cfg->src_ips = 1;
	cfg->threads = 1;
	cfg->batch = 64;
	inet_pton(AF_INET, "10.0.0.1", &cfg->src_ip);
	inet_pton(AF_INET, "10.0.0.2", &cfg->dst_ip);

	rc = allowed_cpus(&cpus);
	ncpus = rc > 0 ? (unsigned int)rc : 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "";

		switch (opt) {
		case OPT_DEV:
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				return bad_value("dev", optarg, "not an interface name");
			cfg->dev = optarg;
			break;
		case OPT_NETNS:
			if (!*optarg)
				return bad_value("netns", optarg, "empty name");
			cfg->netns = optarg;
			break;
		case OPT_MODE:
			if (!strcmp(optarg, "auto"))
				cfg->mode = TG_MODE_AUTO;
			else if (!strcmp(optarg, "live"))
				cfg->mode = TG_MODE_LIVE;
			else if (!strcmp(optarg, "packet"))
				cfg->mode = TG_MODE_PACKET;
			else
				return bad_value("mode", optarg, "expected auto, live or packet");
			break;
		case OPT_SIZE:
			if (parse_uint(optarg, TG_MIN_FRAME, TG_MAX_FRAME, &cfg->size))
				return bad_value("size", optarg, "expected 60-9014 bytes");
			break;
		case OPT_FLOWS:
			if (parse_uint(optarg, 1, 65535, &cfg->flows))
				return bad_value("flows", optarg, "expected 1-65535");
			break;
		case OPT_SRC_IPS:
			if (parse_uint(optarg, 1, TG_MAX_SRC_IPS, &cfg->src_ips))
				return bad_value("src-ips", optarg, "expected 1-65536");
			break;
		case OPT_SPORT:
			if (parse_uint(optarg, 1, 65535, &sport))
				return bad_value("sport", optarg, "expected a port 1-65535");
			break;
		case OPT_DPORT:
			if (parse_uint(optarg, 1, 65535, &dport))
				return bad_value("dport", optarg, "expected a port 1-65535");
			break;
		case OPT_SRC_IP:
			if (inet_pton(AF_INET, optarg, &cfg->src_ip) != 1)
				return bad_value("src-ip", optarg, "expected an IPv4 address");
			break;
		case OPT_DST_IP:
			if (inet_pton(AF_INET, optarg, &cfg->dst_ip) != 1)
				return bad_value("dst-ip", optarg, "expected an IPv4 address");
			break;
		case OPT_SRC_MAC:
			if (tg_parse_mac(optarg, cfg->src_mac))
				return bad_value("src-mac", optarg, "expected xx:xx:xx:xx:xx:xx");
			cfg->have_src_mac = true;
			break;
		case OPT_DST_MAC:
			if (tg_parse_mac(optarg, cfg->dst_mac))
				return bad_value("dst-mac", optarg, "expected xx:xx:xx:xx:xx:xx");
			cfg->have_dst_mac = true;
			break;
		case OPT_DURATION:
			errno = 0;
			cfg->duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(cfg->duration) ||
			    cfg->duration <= 0 || cfg->duration > MAX_DURATION)
				return bad_value("duration", optarg, "expected seconds, > 0 and <= 3600");
			break;
		case OPT_COUNT:
			if (parse_u64(optarg, 1, UINT64_C(1) << 48, &v))
				return bad_value("count", optarg, "expected a packet count >= 1");
			cfg->count = v;
			break;
		case OPT_THREADS:
			if (parse_uint(optarg, 1, ncpus, &cfg->threads)) {
				fprintf(stderr,
					"sluice-trafficgen: --threads '%s': expected 1-%u (one per CPU this process may use)\n",
					optarg, ncpus);
				return -EINVAL;
			}
			break;
		case OPT_BATCH:
			if (parse_uint(optarg, 1, TG_MAX_BATCH, &cfg->batch))
				return bad_value("batch", optarg, "expected 1-256");
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ':':
			fprintf(stderr, "sluice-trafficgen: %s needs a value\n", name);
			return -EINVAL;
		default:
			fprintf(stderr, "sluice-trafficgen: unknown option '%s'\n", name);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sluice-trafficgen: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!cfg->dev) {
		fprintf(stderr, "sluice-trafficgen: --dev is required\n");
		return -EINVAL;
	}
	if (sport + cfg->flows - 1 > 65535) {
		fprintf(stderr, "sluice-trafficgen: --sport %u with --flows %u runs past port 65535\n",
			sport, cfg->flows);
		return -EINVAL;
	}
	/* Wrapping to 0.0.0.0 would send from addresses nobody asked for. */
	if ((uint64_t)ntohl(cfg->src_ip.s_addr) + cfg->src_ips - 1 > UINT32_MAX) {
		char ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cfg->src_ip, ip, sizeof(ip));
		fprintf(stderr,
			"sluice-trafficgen: --src-ip %s with --src-ips %u runs past 255.255.255.255\n",
			ip, cfg->src_ips);
		return -EINVAL;
	}
	cfg->sport = (uint16_t)sport;
	cfg->dport = (uint16_t)dport;
	if (!cfg->duration && !cfg->count)
		cfg->duration = DEFAULT_DURATION;
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop_requested, true);
}

static int install_signals(void)
{
	/* No SA_RESTART: a long test run or send must return so the loop can stop. */
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	return 0;
}

static int quiet_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG || level == LIBBPF_INFO)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

struct report {
	const char *mode;
	const char *dst_mac_source;
	uint64_t packets;
	double seconds;
	bool counted_tx;
	uint64_t tx_packets, tx_dropped;
};

/* Interface names may hold any byte but '/', ':' and whitespace: escape them. */
static void print_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void print_report(const struct tg_config *cfg, const struct report *r)
{
	char src_mac[18], dst_mac[18], src_ip[INET_ADDRSTRLEN], dst_ip[INET_ADDRSTRLEN];
	double pps = r->seconds > 0 ? (double)r->packets / r->seconds : 0;

	tg_format_mac(cfg->src_mac, src_mac);
	tg_format_mac(cfg->dst_mac, dst_mac);
	inet_ntop(AF_INET, &cfg->src_ip, src_ip, sizeof(src_ip));
	inet_ntop(AF_INET, &cfg->dst_ip, dst_ip, sizeof(dst_ip));

	if (cfg->json) {
		printf("{\"mode\":\"%s\",\"dev\":", r->mode);
		print_json_str(cfg->dev);
		printf(",\"netns\":");
		if (cfg->netns)
			print_json_str(cfg->netns);
		else
			printf("null");
		printf(",\"packets\":%llu,\"seconds\":%.6f,"
		       "\"pps\":%.0f,\"threads\":%u,\"size\":%u,\"flows\":%u,\"src_ips\":%u,"
		       "\"batch\":%u,"
		       "\"src_ip\":\"%s\",\"dst_ip\":\"%s\",\"sport\":%u,\"dport\":%u,"
		       "\"src_mac\":\"%s\",\"dst_mac\":\"%s\",\"dst_mac_source\":\"%s\",",
		       (unsigned long long)r->packets, r->seconds, pps,
		       cfg->threads, cfg->size, cfg->flows, cfg->src_ips, cfg->batch, src_ip, dst_ip, cfg->sport,
		       cfg->dport, src_mac, dst_mac, r->dst_mac_source);
		if (r->counted_tx)
			printf("\"dev_tx_packets\":%llu,\"dev_tx_dropped\":%llu}\n",
			       (unsigned long long)r->tx_packets, (unsigned long long)r->tx_dropped);
		else
			printf("\"dev_tx_packets\":null,\"dev_tx_dropped\":null}\n");
		return;
	}
	printf("sent %llu packets in %.3f s: %.0f packets/s (%.2f Mpps)\n",
	       (unsigned long long)r->packets, r->seconds, pps, pps / 1e6);
	printf("  mode %s, out of %s, %u thread%s, batch %u, %u-byte frames, ", r->mode, cfg->dev,
	       cfg->threads, cfg->threads == 1 ? "" : "s", cfg->batch, cfg->size);
	if (cfg->src_ips > 1)
		printf("%llu flows (%u source addresses x %u port%s)\n",
		       (unsigned long long)cfg->flows * cfg->src_ips, cfg->src_ips, cfg->flows,
		       cfg->flows == 1 ? "" : "s");
	else
		printf("%u flow%s\n", cfg->flows, cfg->flows == 1 ? "" : "s");
	if (cfg->src_ips > 1) {
		struct in_addr last = { .s_addr = htonl(ntohl(cfg->src_ip.s_addr) + cfg->src_ips - 1) };
		char last_ip[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &last, last_ip, sizeof(last_ip));
		printf("  %s..%s", src_ip, last_ip);
	} else {
		printf("  %s", src_ip);
	}
	printf(":%u%s -> %s:%u, %s -> %s (%s)\n", cfg->sport, cfg->flows > 1 ? "+" : "", dst_ip,
	       cfg->dport, src_mac, dst_mac, r->dst_mac_source);
	printf("  packets = %s; not proof of reception\n",
	       strcmp(r->mode, "live") ? "frames sendmmsg() accepted" :
					 "XDP_TX verdicts under live frames");
	if (r->counted_tx)
		printf("  %s counters: tx_packets +%llu, tx_dropped +%llu\n", cfg->dev,
		       (unsigned long long)r->tx_packets, (unsigned long long)r->tx_dropped);
}

/* Fills in the MACs not given; returns where the destination came from. */
static const char *default_macs(struct tg_config *cfg, const struct tg_link *l)
{
	struct tg_link peer;

	if (!cfg->have_src_mac && l->have_mac)
		memcpy(cfg->src_mac, l->mac, TG_ETH_ALEN);
	if (cfg->have_dst_mac)
		return "option";
	if (!strcmp(l->kind, "veth") && l->peer_ifindex > 0 &&
	    !tg_link_get(l->peer_ifindex, l->peer_nsid, &peer) && peer.have_mac) {
		memcpy(cfg->dst_mac, peer.mac, TG_ETH_ALEN);
		return "veth-peer";
	}
	if (!tg_neigh_mac(cfg->dev, cfg->dst_ip, cfg->dst_mac))
		return "neighbour";
	memset(cfg->dst_mac, 0xff, TG_ETH_ALEN);
	return "broadcast";
}

static int run_workers(const struct tg_config *cfg, const struct tg_frame *frame, int ifindex,
		       struct tg_live *lv, struct report *rep)
{
	void *(*worker)(void *) = lv ? tg_live_worker : tg_packet_worker;
	struct tg_job *jobs;
	pthread_t *tids;
	cpu_set_t cpus, one;
	pthread_attr_t attr;
	unsigned int i, started = 0;
	double t0, deadline;
	int cpu = -1, rc, prc;

	rc = allowed_cpus(&cpus);
	if (rc <= 0)
		return rc ? rc : -EINVAL;
	rc = 0;
	jobs = calloc(cfg->threads, sizeof(*jobs));
	tids = calloc(cfg->threads, sizeof(*tids));
	if (!jobs || !tids) {
		free(tids);
		free(jobs);
		return -ENOMEM;
	}
	t0 = tg_now();
	deadline = t0 + (cfg->duration ? cfg->duration : COUNT_ONLY_CAP);

	for (i = 0; i < cfg->threads; i++) {
		struct tg_job *j = &jobs[i];

		j->cfg = cfg;
		j->frame = frame;
		j->ifindex = ifindex;
		j->index = i;
		j->deadline = deadline;
		j->stop = &stop_requested;
		j->prog_fd = lv ? tg_live_prog_fd(lv) : -1;
		if (cfg->count)
			j->quota = cfg->count / cfg->threads + (i < cfg->count % cfg->threads);

		/* The next CPU this process may run on: one thread per CPU. */
		do
			cpu++;
		while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &cpus));
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		prc = pthread_create(&tids[i], &attr, worker, j);
		pthread_attr_destroy(&attr);
		if (prc) {
			rc = -prc;
			fprintf(stderr, "sluice-trafficgen: starting thread %u: %s\n", i,
				strerror(prc));
			atomic_store(&stop_requested, true);
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	rep->seconds = tg_now() - t0;

	rep->packets = 0;
	for (i = 0; i < started; i++) {
		rep->packets += jobs[i].sent;
		if (jobs[i].err) {
			fprintf(stderr, "sluice-trafficgen: thread %u: %s: %s\n", i,
				jobs[i].err_what, strerror(-jobs[i].err));
			if (!rc)
				rc = jobs[i].err;
		}
	}
	free(tids);
	free(jobs);
	return rc;
}

static int run(struct tg_config *cfg)
{
	struct report rep = { 0 };
	struct tg_link before, after;
	struct tg_frame *frame = NULL;
	struct tg_live *lv = NULL;
	const char *hint;
	int ifindex, rc;

	if (cfg->netns) {
		rc = tg_enter_netns(cfg->netns);
		if (rc) {
			fprintf(stderr, "sluice-trafficgen: entering network namespace %s: %s\n",
				cfg->netns, strerror(-rc));
			return rc;
		}
	}
	ifindex = (int)if_nametoindex(cfg->dev);
	if (!ifindex) {
		fprintf(stderr, "sluice-trafficgen: %s: no such interface%s%s\n", cfg->dev,
			cfg->netns ? " in namespace " : " in this namespace",
			cfg->netns ? cfg->netns : "");
		return -ENODEV;
	}
	rc = tg_link_get(ifindex, -1, &before);
	if (rc) {
		fprintf(stderr, "sluice-trafficgen: %s: reading the link: %s\n", cfg->dev,
			strerror(-rc));
		return rc;
	}
	if (!(before.flags & IFF_UP)) {
		fprintf(stderr, "sluice-trafficgen: %s is down\n", cfg->dev);
		return -ENETDOWN;
	}
	if (before.mtu && cfg->size > before.mtu + 14) {
		fprintf(stderr, "sluice-trafficgen: --size %u exceeds %s's MTU %u + 14\n",
			cfg->size, cfg->dev, before.mtu);
		return -EMSGSIZE;
	}
	rep.dst_mac_source = default_macs(cfg, &before);

	frame = malloc(sizeof(*frame));
	if (!frame)
		return -ENOMEM;
	rc = tg_frame_build(frame, cfg);
	if (rc)
		goto out;

	if (cfg->mode != TG_MODE_PACKET) {
		rc = tg_live_open(&lv, cfg, frame, ifindex);
		/* A live frame must fit one page with the kernel's head- and tailroom. */
		hint = rc == -EINVAL && cfg->size > LIVE_SIZE_HINT ?
			" (live frames hold at most about 3400 bytes)" : "";
		if (rc && cfg->mode == TG_MODE_LIVE) {
			fprintf(stderr, "sluice-trafficgen: live frames on %s: %s%s\n", cfg->dev,
				strerror(-rc), hint);
			goto out;
		}
		if (rc)
			fprintf(stderr,
				"sluice-trafficgen: live frames unavailable on %s (%s%s): using AF_PACKET\n",
				cfg->dev, strerror(-rc), hint);
	}
	rep.mode = lv ? "live" : "packet";

	rc = install_signals();
	if (rc)
		goto out;
	rc = run_workers(cfg, frame, ifindex, lv, &rep);
	if (atomic_load(&stop_requested))
		fprintf(stderr, "sluice-trafficgen: interrupted; reporting what was sent until then\n");
	if (lv) {
		/* The BPF count is exact even for a run a signal cut short. */
		int frc = tg_live_frames(lv, &rep.packets);

		if (frc && !rc)
			rc = frc;
	}
	if (!tg_link_get(ifindex, -1, &after)) {
		rep.counted_tx = true;
		rep.tx_packets = after.tx_packets - before.tx_packets;
		rep.tx_dropped = after.tx_dropped - before.tx_dropped;
	}
	if (!rc && cfg->count && rep.packets < cfg->count && !atomic_load(&stop_requested)) {
		fprintf(stderr, "sluice-trafficgen: sent %llu of %llu packets in %.1f s\n",
			(unsigned long long)rep.packets, (unsigned long long)cfg->count,
			cfg->duration ? cfg->duration : COUNT_ONLY_CAP);
		/* With --duration as well, the deadline coming first is not a failure. */
		if (!cfg->duration)
			rc = -ETIMEDOUT;
	}
	print_report(cfg, &rep);
	if (lv && rep.counted_tx && rep.packets &&
	    rep.tx_packets + rep.tx_dropped < rep.packets / 2)
		fprintf(stderr,
			"sluice-trafficgen: warning: %s counted only %llu of %llu frames as sent or dropped; "
			"for a veth, the peer needs an XDP program or GRO enabled\n",
			cfg->dev, (unsigned long long)(rep.tx_packets + rep.tx_dropped),
			(unsigned long long)rep.packets);
out:
	tg_live_close(lv);
	free(frame);
	return rc;
}

int main(int argc, char **argv)
{
	struct tg_config cfg;
	int rc;

	rc = parse_args(argc, argv, &cfg);
	if (rc > 0)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "Try 'sluice-trafficgen --help'.\n");
		return EXIT_USAGE;
	}
	libbpf_set_print(quiet_libbpf);
	return run(&cfg) ? 1 : 0;
}
