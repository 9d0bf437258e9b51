/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sluice-trafficgen: shared definitions of the generator's parts.
 *
 *   trafficgen.c         options, orchestration, report
 *   trafficgen_frame.c   the template frame (Ethernet/IPv4/UDP) and its flows
 *   trafficgen_link.c    interface facts over rtnetlink, namespaces
 *   trafficgen_live.c    XDP live frames (BPF_PROG_TEST_RUN) sender
 *   trafficgen_packet.c  AF_PACKET sendmmsg() sender
 */
#ifndef SLUICE_TRAFFICGEN_H
#define SLUICE_TRAFFICGEN_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TG_ETH_ALEN 6
#define TG_HDR_LEN (14 + 20 + 8) /* Ethernet + IPv4 (no options) + UDP */
#define TG_MIN_FRAME 60		 /* Ethernet minimum without the FCS */
#define TG_MAX_FRAME 9014	 /* jumbo MTU + Ethernet header */
#define TG_MAX_BATCH 256	 /* the kernel's limit for live frames */

enum tg_mode {
	TG_MODE_AUTO,	/* live frames, else AF_PACKET */
	TG_MODE_LIVE,	/* live frames or fail */
	TG_MODE_PACKET, /* AF_PACKET */
};

struct tg_config {
	const char *dev;
	const char *netns;
	enum tg_mode mode;
	unsigned int size;
	unsigned int flows;   /* source ports */
	unsigned int src_ips; /* source addresses; flows * src_ips flows in all */
	uint16_t sport, dport;
	struct in_addr src_ip, dst_ip;
	uint8_t src_mac[TG_ETH_ALEN], dst_mac[TG_ETH_ALEN];
	bool have_src_mac, have_dst_mac;
	double duration; /* seconds; 0: no time limit */
	uint64_t count;	 /* packets; 0: no count limit */
	unsigned int threads;
	unsigned int batch;
	bool json;
};

#define TG_MAX_SRC_IPS 65536

struct tg_frame {
	uint8_t data[TG_MAX_FRAME];
	unsigned int len;
	uint16_t sport;	   /* host order, the template's */
	uint16_t udp_csum; /* the template's UDP checksum as stored (network order) */
	unsigned int nports;  /* flow f: port sport + f % nports */
	unsigned int nsrcs;   /* ... and address src_ip + f / nports */
	uint32_t src_ip;      /* host order, the template's */
	/*
	 * With nsrcs > 1: the template-constant part of RFC 1624 eqn. 3,
	 * ~HC + ~m (old source address, and old port for UDP), folded to 16
	 * bits, in the same memory-order words as the checksums. A frame's
	 * checksum is then ~(partial + m'), m' its address (and port) words.
	 */
	uint16_t ip_csum_partial, udp_csum_partial;
};

/* What one sending thread is asked to do, and what it did. */
struct tg_job {
	const struct tg_config *cfg;
	const struct tg_frame *frame;
	int ifindex;
	unsigned int index;	  /* thread number, 0-based */
	uint64_t quota;		  /* packets to send; 0: until the deadline */
	double deadline;	  /* tg_now() value to stop at; 0: none */
	const atomic_bool *stop;  /* set by SIGINT/SIGTERM */
	int prog_fd;		  /* live mode */
	uint64_t sent;		  /* out: packets handed to the transmit path */
	int err;		  /* out: 0 or negative errno */
	const char *err_what;	  /* out: the operation that failed */
};

/* trafficgen.c */
double tg_now(void);

/* trafficgen_frame.c */
int tg_parse_mac(const char *s, uint8_t mac[TG_ETH_ALEN]);
void tg_format_mac(const uint8_t mac[TG_ETH_ALEN], char buf[18]);
int tg_frame_build(struct tg_frame *f, const struct tg_config *cfg);
uint16_t tg_udp_csum_for_port(const struct tg_frame *f, uint16_t port);
void tg_frame_set_flow(uint8_t *frame, const struct tg_frame *f, unsigned int flow);

/* trafficgen_link.c */
struct tg_link {
	int ifindex;
	unsigned int flags; /* IFF_* */
	unsigned int mtu;
	uint8_t mac[TG_ETH_ALEN];
	bool have_mac;
	char kind[16];	  /* IFLA_INFO_KIND, "" if none */
	int peer_ifindex; /* IFLA_LINK, 0 if none */
	int peer_nsid;	  /* IFLA_LINK_NETNSID, -1 if the same namespace */
	uint64_t tx_packets, tx_dropped;
};

int tg_enter_netns(const char *name);
int tg_link_get(int ifindex, int nsid, struct tg_link *l);
int tg_neigh_mac(const char *dev, struct in_addr ip, uint8_t mac[TG_ETH_ALEN]);

/* trafficgen_live.c */
struct tg_live;
int tg_live_open(struct tg_live **out, const struct tg_config *cfg, const struct tg_frame *f,
		 int ifindex);
int tg_live_prog_fd(const struct tg_live *lv);
void *tg_live_worker(void *arg);
int tg_live_frames(const struct tg_live *lv, uint64_t *frames);
void tg_live_close(struct tg_live *lv);

/* trafficgen_packet.c */
void *tg_packet_worker(void *arg);

#endif
