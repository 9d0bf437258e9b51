/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Incremental checksum updates for address and port rewrites. Headers the
 * kernel parsed (the outer IP and L4 headers) go through its helpers, which
 * also keep skb->csum and CHECKSUM_PARTIAL packets right. Checksums inside
 * the quote of an ICMP error are plain payload to the kernel, so they are
 * computed here (RFC 1624) and every changed byte is folded into the ICMP
 * checksum.
 *
 * One's-complement sums do not depend on byte order, so 16-bit words are
 * summed as loaded from the packet and stored back the same way.
 */
#ifndef SLUICE_CSUM_H
#define SLUICE_CSUM_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#include "parse.h"

#define SL_IPPROTO_ICMPV6 58

#define SL_IPV4_CSUM_OFF 10
#define SL_IPV4_SADDR_OFF 12
#define SL_IPV4_DADDR_OFF 16
#define SL_IPV6_SADDR_OFF 8
#define SL_IPV6_DADDR_OFF 24
#define SL_TCP_CSUM_OFF 16
#define SL_UDP_CSUM_OFF 6
#define SL_ICMP_CSUM_OFF 2
#define SL_ICMP_ID_OFF 4

static __always_inline __u16 sl_csum_fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)((s & 0xffff) + (s >> 16));
}

/* The checksum after the covered data changed by diff (a sum of ~old and new words). */
static __always_inline __u16 sl_csum_apply(__u16 csum, __u64 diff)
{
	return (__u16)~sl_csum_fold((__u64)(__u16)~csum + diff);
}

static __always_inline __u64 sl_csum_diff16(__u16 old, __u16 new)
{
	return (__u64)(__u16)~old + new;
}

/* diff of an n-word (n = 2 for IPv4, 8 for IPv6) address change. */
static __always_inline __u64 sl_csum_diff_addr(const __be32 *old, const __be32 *new, int n)
{
	const __u16 *o = (const __u16 *)old, *w = (const __u16 *)new;
	__u64 d = 0;
	int i;

#pragma unroll
	for (i = 0; i < 8; i++)
		if (i < n)
			d += sl_csum_diff16(o[i], w[i]);
	return d;
}

/* Where a packet's own transport checksum lives, and what changes it. */
struct sl_l4_csum {
	__u32 off;   /* 0: none to update (later fragment, protocol without one) */
	__u64 flags; /* BPF_F_MARK_MANGLED_0 for UDP */
	__u8 pseudo; /* the addresses are in it (TCP, UDP, ICMPv6) */
};

static __always_inline void sl_l4_csum_of(const struct sl_pkt *pkt, struct sl_l4_csum *c)
{
	c->off = 0;
	c->flags = 0;
	c->pseudo = 1;
	if (pkt->frag_later || pkt->l4_unknown)
		return;
	switch (pkt->flow.proto) {
	case IPPROTO_TCP:
		c->off = pkt->l4_off + SL_TCP_CSUM_OFF;
		break;
	case IPPROTO_UDP:
		c->off = pkt->l4_off + SL_UDP_CSUM_OFF;
		c->flags = BPF_F_MARK_MANGLED_0; /* an IPv4 datagram without checksum keeps none */
		break;
	case IPPROTO_ICMP:
		if (pkt->family == SL_FAMILY_IPV4) {
			c->off = pkt->l4_off + SL_ICMP_CSUM_OFF;
			c->pseudo = 0;
		}
		break;
	case SL_IPPROTO_ICMPV6:
		if (pkt->family == SL_FAMILY_IPV6)
			c->off = pkt->l4_off + SL_ICMP_CSUM_OFF;
		break;
	}
}

/* Rewrites the outer source (is_src) or destination address to addr. */
static __always_inline int sl_store_addr(struct __sk_buff *skb, const struct sl_pkt *pkt,
					 const struct sl_l4_csum *c, int is_src,
					 const __be32 *old, const __be32 *addr)
{
	__u32 off = pkt->l3_off;

	if (pkt->family == SL_FAMILY_IPV4) {
		if (old[0] == addr[0])
			return 0;
		off += is_src ? SL_IPV4_SADDR_OFF : SL_IPV4_DADDR_OFF;
		if (c->off && c->pseudo &&
		    bpf_l4_csum_replace(skb, c->off, old[0], addr[0],
					c->flags | BPF_F_PSEUDO_HDR | sizeof(__be32)))
			return -1;
		if (bpf_l3_csum_replace(skb, pkt->l3_off + SL_IPV4_CSUM_OFF, old[0], addr[0],
					sizeof(__be32)))
			return -1;
		return bpf_skb_store_bytes(skb, off, addr, 4, 0) ? -1 : 0;
	}
	if (old[0] == addr[0] && old[1] == addr[1] && old[2] == addr[2] && old[3] == addr[3])
		return 0;
	off += is_src ? SL_IPV6_SADDR_OFF : SL_IPV6_DADDR_OFF;
	if (c->off && c->pseudo) {
		__s64 diff = bpf_csum_diff((__be32 *)old, 16, (__be32 *)addr, 16, 0);

		if (diff < 0 ||
		    bpf_l4_csum_replace(skb, c->off, 0, (__u32)diff, c->flags | BPF_F_PSEUDO_HDR))
			return -1;
	}
	return bpf_skb_store_bytes(skb, off, addr, 16, 0) ? -1 : 0;
}

/* Rewrites a 16-bit field of the transport header (port, echo identifier). */
static __always_inline int sl_store_l4_word(struct __sk_buff *skb, const struct sl_l4_csum *c,
					    __u32 off, __be16 old, __be16 new)
{
	if (old == new)
		return 0;
	if (c->off && bpf_l4_csum_replace(skb, c->off, old, new, c->flags | sizeof(__be16)))
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0) ? -1 : 0;
}

/*
 * Inside an ICMP error's quote: stores len bytes (2, 4 or 16) and folds the
 * change into the ICMP checksum at icmp_csum_off.
 */
static __always_inline int sl_quote_store(struct __sk_buff *skb, __u32 icmp_csum_off, __u32 off,
					  const void *old, const void *new, __u32 len)
{
	if (len == 2) {
		if (bpf_l4_csum_replace(skb, icmp_csum_off, *(const __u16 *)old,
					*(const __u16 *)new, 2))
			return -1;
	} else {
		__s64 diff = bpf_csum_diff((void *)old, len, (void *)new, len, 0);

		if (diff < 0 || bpf_l4_csum_replace(skb, icmp_csum_off, 0, (__u32)diff, 0))
			return -1;
	}
	return bpf_skb_store_bytes(skb, off, new, len, 0) ? -1 : 0;
}

#endif
