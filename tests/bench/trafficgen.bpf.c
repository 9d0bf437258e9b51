// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The XDP program behind sluice-trafficgen's live-frames mode. The kernel
 * runs it under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES on a copy
 * of the template frame, and an XDP_TX verdict there means "transmit out of
 * the ingress device" (the kernel turns it into a redirect to that ifindex).
 *
 * Live-frames pages are recycled without being rewritten: a page comes back
 * holding whatever the path downstream wrote into it. A veth peer that
 * forwards the frame (the kernel, or a tc redirect) rewrites its MACs in that
 * very page and, when it routes, decrements the TTL and patches the IPv4
 * checksum. So the program writes the whole Ethernet, IPv4 and UDP header of
 * every frame from a template user space built at load time, and varies the
 * UDP source port (and checksum) across the flows, and with more than one
 * source address also the IPv4 source (and both checksums). Nothing on the
 * way touches the payload, so it stays as the kernel first copied it.
 *
 * The program also counts what it handed to the transmit path. The count is
 * per CPU and is the generator's authoritative number of transmission
 * attempts: it stays exact even when a signal cuts a test run short.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

/* Set before load; see trafficgen_live.c. */
const volatile __u32 nflows = 1;
const volatile __u16 sport_base;    /* host order */
const volatile __u16 udp_csum_base; /* the template's UDP checksum, as stored */
/*
 * Source addresses: flow f is port sport_base + f % nflows, address
 * saddr_base + f / nflows. With nsrcs > 1 the checksums come from the
 * template-constant halves of RFC 1624 eqn. 3 user space folded at load
 * time (see struct tg_frame), which saves the complements per frame.
 */
const volatile __u32 nsrcs = 1;
const volatile __u32 saddr_base; /* host order */
const volatile __u16 ip_csum_partial;
const volatile __u16 udp_csum_partial;
/*
 * The template's first TG_HDR_WORDS * 8 bytes, as stored: Ethernet, IPv4
 * (checksum included) and UDP up to, not including, its checksum. Whole
 * words, so that rewriting them costs five loads and five stores.
 */
#define TG_HDR_WORDS 5
const volatile __u64 hdr_words[TG_HDR_WORDS];

/*
 * Written by user space through the mmap'ed .bss. Until it is set, frames are
 * dropped and not counted, so probing whether live frames work sends nothing.
 */
volatile __u32 armed;

struct tg_cpu_state {
	__u64 frames; /* frames returned XDP_TX */
	__u32 flow;   /* port index of the next flow on this CPU */
	__u32 addr;   /* source address index of the next flow on this CPU */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_cpu_state);
} tg_state SEC(".maps");

/*
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), computed from the template's
 * checksum and port, never from the frame's current contents: live-frames
 * pages are recycled without being rewritten, so a frame may hold the
 * template or the port of any earlier use of its page.
 */
static __always_inline __u16 udp_csum_for_port(__u16 port_be)
{
	__u32 sum = (__u16)~udp_csum_base;

	sum += (__u16)~bpf_htons(sport_base);
	sum += port_be;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (__u16)~sum;
	/* 0 means "no checksum" in UDP over IPv4; its ones' complement twin is 0xffff. */
	return sum ? (__u16)sum : 0xffff;
}

static __always_inline __u32 csum_fold16(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
}

/*
 * Port and source address of the next flow, checksums from the template's
 * values (never from the frame: its page may hold any earlier flow). The
 * words restored the template's header, so all four fields are set here.
 */
static __always_inline void set_flow_addr(struct iphdr *iph, struct udphdr *udp,
					  struct tg_cpu_state *st)
{
	__u32 saddr = bpf_htonl(saddr_base + st->addr);
	__u32 words = (saddr & 0xffff) + (saddr >> 16);
	__u16 port = bpf_htons((__u16)(sport_base + st->flow));
	__u16 csum;

	iph->saddr = saddr;
	iph->check = (__u16)~csum_fold16(ip_csum_partial + words);
	udp->source = port;
	csum = (__u16)~csum_fold16(udp_csum_partial + port + words);
	/* 0 means "no checksum" in UDP over IPv4; its ones' complement twin is 0xffff. */
	udp->check = csum ? csum : 0xffff;

	/* Ports vary fastest: every address gets every port in turn. */
	if (++st->flow >= nflows) {
		st->flow = 0;
		if (++st->addr >= nsrcs)
			st->addr = 0;
	}
}

SEC("xdp")
int tg_xmit(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct tg_cpu_state *st;
	struct iphdr *iph;
	struct udphdr *udp;
	__u64 *words = data;
	__u32 key = 0;
	__u16 port;

	if (!armed)
		return XDP_DROP;

	st = bpf_map_lookup_elem(&tg_state, &key);
	if (!st)
		return XDP_ABORTED;

	/* One bound for all stores: the words end inside the UDP header. */
	iph = data + sizeof(struct ethhdr);
	udp = (void *)(iph + 1);
	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	/*
	 * Word stores to the packet: the verifier takes them unaligned where the
	 * CPU handles that well (x86, arm64), and a live frame starts on a word
	 * boundary of its page here anyway.
	 */
	words[0] = hdr_words[0];
	words[1] = hdr_words[1];
	words[2] = hdr_words[2];
	words[3] = hdr_words[3];
	words[4] = hdr_words[4];

	/* nsrcs is constant for the verifier: the branches not taken cost nothing. */
	if (nsrcs > 1) {
		set_flow_addr(iph, udp, st);
	} else if (nflows > 1) {
		port = bpf_htons((__u16)(sport_base + st->flow));
		udp->source = port;
		udp->check = udp_csum_for_port(port);
		if (++st->flow >= nflows)
			st->flow = 0;
	} else {
		/* words[4] restored the port; the checksum lies past the words. */
		udp->check = udp_csum_base;
	}
	st->frames++;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
