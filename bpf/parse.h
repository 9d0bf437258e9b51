/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet parsing into the fields the classifier matches on. Works on the
 * linear packet data of XDP and TC alike; never reads past data_end.
 */
#ifndef SLUICE_PARSE_H
#define SLUICE_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sluice_abi.h"

#define SL_MAX_VLAN_DEPTH 2
#define SL_MAX_IPV6_EXT 6 /* RFC 8200 order without ESP: HBH, DST, RH, FH, AH, DST */

#ifndef ETH_P_8021AD
#define ETH_P_8021AD 0x88A8
#endif

#define SL_IPPROTO_HOPOPTS 0
#define SL_IPPROTO_ROUTING 43
#define SL_IPPROTO_FRAGMENT 44
#define SL_IPPROTO_DSTOPTS 60
#define SL_IPPROTO_AH 51

struct sl_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

struct sl_ipv6_opt_hdr {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct sl_ipv6_frag_hdr {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | flags */
	__be32 id;
};

enum sl_parse_result {
	SL_PARSE_OK = 0,
	SL_PARSE_TRUNCATED = 1, /* headers end early: the packet passes untouched */
};

struct sl_pkt {
	struct sl_key flow;  /* shape field is unused here */
	__u8 family;         /* SL_FAMILY_* of the L3 header, ANY for non-IP */
	__u8 has_ports;      /* L4 ports read (not a non-first fragment) */
	__u16 l3_off;        /* offset of the IP header from data */
	__u16 l4_off;        /* offset of the L4 header from data */
	__u8 is_fragment;    /* any fragment, first or not */
	__u8 l4_unknown;     /* the transport header is out of reach (too many IPv6 extensions) */
	__u8 frag_later;     /* a fragment other than the first: no L4 header */
	__u8 pad;
	__u32 frag_id;       /* fragments: IPv4 identification or IPv6 fragment id, as stored */
};

static __always_inline int sl_proto_has_ports(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static __always_inline int sl_parse_ports(void *data, void *data_end,
					  struct sl_pkt *pkt)
{
	__be16 *ports = data + pkt->l4_off;

	if (!sl_proto_has_ports(pkt->flow.proto))
		return SL_PARSE_OK;
	if ((void *)(ports + 2) > data_end)
		return SL_PARSE_TRUNCATED;
	pkt->flow.sport = ports[0];
	pkt->flow.dport = ports[1];
	pkt->has_ports = 1;
	return SL_PARSE_OK;
}

static __always_inline int sl_parse_ipv4(void *data, void *data_end,
					 struct sl_pkt *pkt)
{
	struct iphdr *iph = data + pkt->l3_off;
	__u32 ihl_len;

	if ((void *)(iph + 1) > data_end)
		return SL_PARSE_TRUNCATED;
	ihl_len = iph->ihl * 4;
	if (ihl_len < sizeof(*iph))
		return SL_PARSE_TRUNCATED;
	/* Options are skipped whole; the header must fit in the packet. */
	if (data + pkt->l3_off + ihl_len > data_end)
		return SL_PARSE_TRUNCATED;

	pkt->family = SL_FAMILY_IPV4;
	pkt->flow.proto = iph->protocol;
	pkt->flow.src[0] = iph->saddr;
	pkt->flow.dst[0] = iph->daddr;
	pkt->l4_off = pkt->l3_off + ihl_len;

	if (iph->frag_off & bpf_htons(0x3fff)) { /* MF set or offset != 0 */
		pkt->is_fragment = 1;
		pkt->frag_id = iph->id;
		if (iph->frag_off & bpf_htons(0x1fff)) {
			pkt->frag_later = 1;
			return SL_PARSE_OK; /* no L4 header in later fragments */
		}
	}
	return sl_parse_ports(data, data_end, pkt);
}

static __always_inline int sl_parse_ipv6(void *data, void *data_end,
					 struct sl_pkt *pkt)
{
	struct ipv6hdr *ip6h = data + pkt->l3_off;
	__u32 off;
	__u8 nexthdr;
	int i;

	if ((void *)(ip6h + 1) > data_end)
		return SL_PARSE_TRUNCATED;

	pkt->family = SL_FAMILY_IPV6;
	__builtin_memcpy(pkt->flow.src, &ip6h->saddr, 16);
	__builtin_memcpy(pkt->flow.dst, &ip6h->daddr, 16);
	nexthdr = ip6h->nexthdr;
	off = pkt->l3_off + sizeof(*ip6h);

	/* One pass per extension header, plus one to look at what follows the last. */
#pragma unroll
	for (i = 0; i <= SL_MAX_IPV6_EXT; i++) {
		struct sl_ipv6_opt_hdr *opt;
		struct sl_ipv6_frag_hdr *frag;

		switch (nexthdr) {
		case SL_IPPROTO_HOPOPTS:
		case SL_IPPROTO_ROUTING:
		case SL_IPPROTO_DSTOPTS:
			opt = data + off;
			if ((void *)(opt + 1) > data_end)
				return SL_PARSE_TRUNCATED;
			nexthdr = opt->nexthdr;
			off += (opt->hdrlen + 1) * 8;
			break;
		case SL_IPPROTO_AH:
			opt = data + off;
			if ((void *)(opt + 1) > data_end)
				return SL_PARSE_TRUNCATED;
			nexthdr = opt->nexthdr;
			off += (opt->hdrlen + 2) * 4;
			break;
		case SL_IPPROTO_FRAGMENT:
			frag = data + off;
			if ((void *)(frag + 1) > data_end)
				return SL_PARSE_TRUNCATED;
			pkt->is_fragment = 1;
			pkt->frag_id = frag->id;
			pkt->flow.proto = frag->nexthdr;
			if (frag->frag_off & bpf_htons(0xfff8)) {
				pkt->frag_later = 1;
				pkt->l4_off = off + sizeof(*frag);
				return SL_PARSE_OK; /* later fragment: no ports */
			}
			nexthdr = frag->nexthdr;
			off += sizeof(*frag);
			break;
		default:
			goto done;
		}
		/* Bounds the offset for the verifier; no real header chain is this long. */
		if (off > 1024) {
			if (data + off > data_end)
				return SL_PARSE_TRUNCATED; /* a length pointing past the frame */
			goto unknown_l4;
		}
	}
unknown_l4:
	/*
	 * Past the walk limit the addresses are still known, so address rules
	 * apply; protocol and port rules cannot, and do not match.
	 */
	pkt->l4_unknown = 1;
	pkt->flow.proto = 0;
	return SL_PARSE_OK;
done:
	pkt->flow.proto = nexthdr;
	pkt->l4_off = off;
	return sl_parse_ports(data, data_end, pkt);
}

/* Fills pkt from the frame; returns SL_PARSE_OK or SL_PARSE_TRUNCATED. */
static __always_inline int sl_parse(void *data, void *data_end,
				    struct sl_pkt *pkt)
{
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 off;
	int i;

	if ((void *)(eth + 1) > data_end)
		return SL_PARSE_TRUNCATED;
	proto = eth->h_proto;
	off = sizeof(*eth);

#pragma unroll
	for (i = 0; i < SL_MAX_VLAN_DEPTH; i++) {
		struct sl_vlan_hdr *vh;

		if (proto != bpf_htons(ETH_P_8021Q) &&
		    proto != bpf_htons(ETH_P_8021AD))
			break;
		vh = data + off;
		if ((void *)(vh + 1) > data_end)
			return SL_PARSE_TRUNCATED;
		proto = vh->encap_proto;
		off += sizeof(*vh);
	}

	pkt->flow.ether_type = proto;
	pkt->l3_off = off;
	if (proto == bpf_htons(ETH_P_IP))
		return sl_parse_ipv4(data, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return sl_parse_ipv6(data, data_end, pkt);
	return SL_PARSE_OK;
}

#endif
