// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Rewrite (NAT) rules through BPF_PROG_TEST_RUN, set up the way the daemon
 * does it: one conntrack, a "forward" hook holding the rewrite rule and a
 * "reply" hook where the flow's replies arrive, both sharing the flows
 * (detached hooks all get zone 0, like the daemon's hooks in one
 * namespace). Every translated frame is compared byte for byte with the
 * frame built from scratch with the new addresses and ports, and every
 * checksum is recomputed here in full (RFC 1071), never with the
 * datapath's incremental arithmetic, so a bug there cannot hide itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include "cases.h"
#include "conntrack.h"
#include "rule_spec.h"

#define LOOPBACK 1
#define ETH_LEN 14

#define TCP_SYN 0x02
#define TCP_ACK 0x10

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11
#define ICMPV6_PKT_TOOBIG 2
#define ICMPV6_ECHO_REPLY 129

/* The id the frame builder gives ICMP echoes. */
#define ECHO_ID 0x42

/* Where colliding source ports move to: small, so the check is tight. */
#define PORT_LO 40000
#define PORT_HI 40009

#define RULE_ID 7

/* One conntrack, and the two hooks whose programs share it. */
struct nat {
	struct sl_dp_ct *ct;
	struct sl_dp_hook *fwd, *rep;
};

struct run {
	int rc, retval;
	uint8_t out[FRAME_MAX + 512];
	uint32_t out_len;
};

/* ---- Checksums, from scratch (RFC 1071) ---- */

static uint64_t sum_bytes(const uint8_t *p, size_t len, uint64_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8; /* an odd byte is padded with zero */
	return sum;
}

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int ip_family(const uint8_t *ip)
{
	return ip[0] >> 4;
}

/* The IPv4 header verifies: its one's complement sum is all ones. */
static bool ipv4_hdr_ok(const uint8_t *ip)
{
	return fold(sum_bytes(ip, (size_t)(ip[0] & 0xf) * 4, 0)) == 0xffff;
}

static size_t ip_hdr_len(const uint8_t *ip)
{
	return ip_family(ip) == 4 ? (size_t)(ip[0] & 0xf) * 4 : 40;
}

static uint8_t ip_proto(const uint8_t *ip)
{
	return ip_family(ip) == 4 ? ip[9] : ip[6];
}

/* Transport bytes after the header: from the length field, not the frame. */
static size_t ip_l4_len(const uint8_t *ip)
{
	return ip_family(ip) == 4 ? get16(ip + 2) - ip_hdr_len(ip) : get16(ip + 4);
}

static const uint8_t *ip_src(const uint8_t *ip)
{
	return ip + (ip_family(ip) == 4 ? 12 : 8);
}

static const uint8_t *ip_dst(const uint8_t *ip)
{
	return ip + (ip_family(ip) == 4 ? 16 : 24);
}

static size_t addr_len(const uint8_t *ip)
{
	return ip_family(ip) == 4 ? 4 : 16;
}

static bool ipv4_fragment(const uint8_t *ip)
{
	return ip_family(ip) == 4 && (get16(ip + 6) & 0x3fff);
}

/* Offset of the transport checksum; 0 for a protocol without one we know. */
static size_t l4_csum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP: return 16;
	case IPPROTO_UDP: return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: return 2;
	default: return 0;
	}
}

/*
 * The checksum a sender computes for the transport segment l4 (len bytes)
 * inside IP header ip: its own bytes with the checksum field taken as zero,
 * plus the pseudo-header except for ICMP over IPv4. UDP sends a computed 0
 * as all ones (RFC 768).
 */
static uint16_t l4_csum_fresh(const uint8_t *ip, const uint8_t *l4, size_t len)
{
	uint8_t proto = ip_proto(ip);
	size_t off = l4_csum_off(proto);
	uint64_t sum = 0;
	uint16_t csum;

	if (proto != IPPROTO_ICMP) {
		sum = sum_bytes(ip_src(ip), addr_len(ip), sum);
		sum = sum_bytes(ip_dst(ip), addr_len(ip), sum);
		sum += proto;
		sum += len; /* IPv6's 32-bit length: the same sum for any real size */
	}
	sum = sum_bytes(l4, len, sum);
	sum -= get16(l4 + off); /* leave the field out, as if zero */
	csum = (uint16_t)~fold(sum);
	return proto == IPPROTO_UDP && !csum ? 0xffff : csum;
}

/* Gives a built frame its real transport checksum (the builder leaves zero). */
static void seal(struct frame *f)
{
	const uint8_t *ip = f->data + f->l3_off;
	size_t off = l4_csum_off(ip_proto(ip));

	put16(f->data + f->l4_off + off, 0);
	put16(f->data + f->l4_off + off, l4_csum_fresh(ip, f->data + f->l4_off, ip_l4_len(ip)));
}

/* ---- Set-up ---- */

static bool nat_open(struct nat *n, uint16_t port_lo, uint16_t port_hi)
{
	struct sl_ct_opts copts = { .max_flows = 256, .port_lo = port_lo, .port_hi = port_hi };
	struct sl_dp_opts opts = { .rule_slots = HARNESS_RULE_SLOTS };
	struct sl_err err = { 0 };
	int rc;

	memset(n, 0, sizeof(*n));
	rc = sl_dp_ct_new(&copts, &n->ct, &err);
	if (!CHECK(rc == 0, "create the conntrack: %s", err.msg))
		return false;
	opts.ct = n->ct;
	rc = sl_dp_hook_open_detached(SL_HOOK_TC_INGRESS, &opts, &n->fwd, &err);
	if (!rc)
		rc = sl_dp_hook_open_detached(SL_HOOK_TC_INGRESS, &opts, &n->rep, &err);
	if (!CHECK(rc == 0, "load the forward and reply programs: %s", err.msg))
		return false;
	/* The daemon marks the hook where a rule's replies arrive; it has no rule itself. */
	sl_dp_hook_reply_point(n->rep, true);
	return true;
}

static void nat_close(struct nat *n)
{
	sl_dp_hook_close(n->fwd);
	sl_dp_hook_close(n->rep);
	sl_dp_ct_free(n->ct);
	memset(n, 0, sizeof(*n));
}

struct xlate {
	uint8_t flags;          /* SL_NAT_* */
	const char *to_src, *to_dst;
	uint16_t to_dport;
	uint8_t redirect_mode;  /* 0: continue through the stack */
};

static bool nat_rule(struct nat *n, const char *spec, int family, const struct xlate *x,
		     uint32_t *slot)
{
	struct sl_dp_action act = { .kind = SL_ACTION_REWRITE, .priority = 100 };
	int af = family == 4 ? AF_INET : AF_INET6;
	struct sl_err err = { 0 };
	struct sl_match m;
	int rc;

	act.nat.family = family == 4 ? SL_FAMILY_IPV4 : SL_FAMILY_IPV6;
	act.nat.flags = x->flags;
	act.nat.rule_id = RULE_ID;
	if (x->to_src && inet_pton(af, x->to_src, act.nat.to_src) != 1)
		return CHECK(false, "bad address %s", x->to_src);
	if (x->to_dst && inet_pton(af, x->to_dst, act.nat.to_dst) != 1)
		return CHECK(false, "bad address %s", x->to_dst);
	act.nat.to_dport = htons(x->to_dport);
	if (x->redirect_mode) {
		act.redirect.mode = x->redirect_mode;
		act.redirect.ifindex = LOOPBACK;
	}
	rc = rule_spec_parse(spec, &m, &err);
	if (!rc)
		rc = sl_dp_rule_add_action(n->fwd, &m, &act, slot, &err);
	return CHECK(rc == 0, "add rewrite '%s': %s", spec, rc ? err.msg : "ok");
}

static bool drop_rule(struct sl_dp_hook *h, const char *spec, uint32_t *slot)
{
	struct sl_err err = { 0 };
	struct sl_match m;
	int rc = rule_spec_parse(spec, &m, &err);

	if (!rc)
		rc = sl_dp_rule_add(h, &m, slot, &err);
	return CHECK(rc == 0, "add drop '%s': %s", spec, rc ? err.msg : "ok");
}

static bool del_rule(struct sl_dp_hook *h, uint32_t slot)
{
	struct sl_err err = { 0 };
	int rc = sl_dp_rule_del(h, slot, &err);

	return CHECK(rc == 0, "delete slot %u: %s", slot, rc ? err.msg : "ok");
}

static void run_frame(struct sl_dp_hook *h, const uint8_t *data, size_t len, struct run *r)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = data, .data_size_in = (__u32)len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	memset(r->out, 0, sizeof(r->out));
	r->rc = bpf_prog_test_run_opts(sl_dp_hook_prog_fd(h), &opts);
	r->retval = (int)opts.retval;
	r->out_len = opts.data_size_out;
}

/* ---- Frames ---- */

/* What a leg's frames get beyond their spec; the same for what goes in and what comes out. */
struct tweak {
	uint8_t tcp_flags;   /* 0: the builder's SYN */
	bool echo_reply;     /* ICMP(v6) echo reply instead of request */
	bool no_udp_csum;    /* IPv4 UDP sent without a checksum: leave it 0 */
};

/* One packet through one hook: the frame that goes in, the one that must come out. */
struct leg {
	struct frame_spec in, out;
	struct tweak tw;
	uint16_t in_id, out_id; /* echo identifiers; 0: the builder's */
	int retval;             /* TC_ACT_OK (0) unless set */
};

static bool make_frame(const struct frame_spec *s, const struct tweak *tw, uint16_t echo_id,
		       struct frame *f, const char *what)
{
	uint8_t *l4;

	if (!case_build(s, f, what, __FILE__, __LINE__))
		return false;
	l4 = f->data + f->l4_off;
	if (s->proto == IPPROTO_TCP && tw->tcp_flags)
		l4[13] = tw->tcp_flags;
	if (s->proto == IPPROTO_ICMP && tw->echo_reply)
		l4[0] = ICMP_ECHO_REPLY;
	if (s->proto == IPPROTO_ICMPV6 && tw->echo_reply)
		l4[0] = ICMPV6_ECHO_REPLY;
	if ((s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) && echo_id)
		put16(l4 + 4, echo_id);
	if (!(s->proto == IPPROTO_UDP && tw->no_udp_csum))
		seal(f);
	return true;
}

static const char *fmt_addr(const uint8_t *a, size_t len, char *buf, size_t size)
{
	return inet_ntop(len == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)size);
}

/* Equal bytes, or a report of the first difference (what the translation got wrong). */
static bool same_bytes(const uint8_t *got, const uint8_t *want, size_t len, const char *what)
{
	size_t i;

	for (i = 0; i < len && got[i] == want[i]; i++)
		;
	if (i == len)
		return CHECK(true, "%s: %zu bytes as built from scratch", what, len);
	return CHECK(i == len,
		     "%s: differs from the frame built from scratch at byte %zu of %zu: got %02x, want %02x",
		     what, i, len, got[i], want[i]);
}

static bool same_addr(const uint8_t *got, const uint8_t *want, size_t len, const char *what)
{
	char g[INET6_ADDRSTRLEN], w[INET6_ADDRSTRLEN];

	return CHECK(!memcmp(got, want, len), "%s: %s, want %s", what,
		     fmt_addr(got, len, g, sizeof(g)), fmt_addr(want, len, w, sizeof(w)));
}

/*
 * Checks one translated frame field by field, then checksums, then whole:
 * the fields name what went wrong, the checksums that the datapath's
 * arithmetic is right, the whole frame that nothing else moved.
 */
static bool check_frame(const struct run *r, const uint8_t *want, size_t len, int want_retval,
			const char *what)
{
	const uint8_t *ip = r->out + ETH_LEN, *wip = want + ETH_LEN;
	const uint8_t *l4 = ip + ip_hdr_len(ip), *wl4 = wip + ip_hdr_len(wip);
	uint8_t proto = ip_proto(wip);
	size_t alen = addr_len(wip), csum_off = l4_csum_off(proto);
	bool later = ipv4_fragment(wip) && (get16(wip + 6) & 0x1fff);
	char buf[160];

	if (!CHECK(r->rc == 0 && r->retval == want_retval, "%s: rc %d, retval %d, want %d", what,
		   r->rc, r->retval, want_retval))
		return false;
	if (!CHECK(r->out_len == len, "%s: length %u, want %zu", what, r->out_len, len))
		return false;
	snprintf(buf, sizeof(buf), "%s: source", what);
	same_addr(ip_src(ip), ip_src(wip), alen, buf);
	snprintf(buf, sizeof(buf), "%s: destination", what);
	same_addr(ip_dst(ip), ip_dst(wip), alen, buf);
	if (ip_family(wip) == 4)
		CHECK(ipv4_hdr_ok(ip), "%s: IPv4 header checksum %04x verifies", what,
		      get16(ip + 10));
	if (!later && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		CHECK(get16(l4) == get16(wl4) && get16(l4 + 2) == get16(wl4 + 2),
		      "%s: ports %u -> %u, want %u -> %u", what, get16(l4), get16(l4 + 2),
		      get16(wl4), get16(wl4 + 2));
	}
	if ((proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) && (wl4[0] == 8 || wl4[0] == 0 ||
								   wl4[0] == 128 || wl4[0] == 129))
		CHECK(get16(l4 + 4) == get16(wl4 + 4), "%s: echo identifier %#x, want %#x", what,
		      get16(l4 + 4), get16(wl4 + 4));
	/* A first fragment's checksum covers the whole datagram: its case checks that. */
	if (!ipv4_fragment(wip) && csum_off) {
		uint16_t got = get16(l4 + csum_off);

		if (proto == IPPROTO_UDP && !get16(wl4 + csum_off))
			CHECK(got == 0, "%s: UDP without checksum keeps 0: got %04x", what, got);
		else
			CHECK(got == l4_csum_fresh(ip, l4, ip_l4_len(ip)),
			      "%s: transport checksum %04x, recomputed %04x", what, got,
			      l4_csum_fresh(ip, l4, ip_l4_len(ip)));
	}
	return same_bytes(r->out, want, len, what);
}

/* Runs a leg through h; r keeps what came out. */
static bool expect_leg(struct sl_dp_hook *h, const struct leg *l, struct run *r, const char *what)
{
	struct frame in, want;

	if (!make_frame(&l->in, &l->tw, l->in_id, &in, what) ||
	    !make_frame(&l->out, &l->tw, l->out_id, &want, what))
		return false;
	run_frame(h, in.data, in.len, r);
	return check_frame(r, want.data, want.len, l->retval, what);
}

/* A frame no rule and no flow knows: passed on to later filters, not one byte changed. */
static bool expect_untouched(struct sl_dp_hook *h, const struct frame_spec *s,
			     const struct tweak *tw, uint16_t echo_id, const char *what)
{
	struct frame f;
	struct run r;

	if (!make_frame(s, tw, echo_id, &f, what))
		return false;
	run_frame(h, f.data, f.len, &r);
	CHECK(r.rc == 0 && r.retval == TC_ACT_UNSPEC, "%s: retval %d, want TC_ACT_UNSPEC", what,
	      r.retval);
	return CHECK(r.out_len == f.len && !memcmp(r.out, f.data, f.len), "%s: frame unchanged",
		     what);
}

/* ---- Cases ---- */

/* Addresses: clients, the service's public address, its backend, the SNAT address. */
#define CLIENT "192.0.2.10"
#define CLIENT2 "192.0.2.11"
#define VIP "198.51.100.80"
#define BACKEND "10.20.0.5"
#define SERVER "198.51.100.7"
#define PUBLIC "203.0.113.1"
#define ROUTER "198.51.100.254"

#define CLIENT6 "2001:db8:1::10"
#define VIP6 "2001:db8:2::80"
#define BACKEND6 "2001:db8:3::5"
#define SERVER6 "2001:db8:4::7"
#define PUBLIC6 "2001:db8:5::1"

/* Rewrite cases need tc; the XDP pass of the suite has nothing to check. */
#define TC_ONLY(t) \
	do { \
		if ((t)->kind == SL_HOOK_XDP) \
			return; \
	} while (0)

static void nat_tcp_dnat(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 8080 };
	struct sl_dp_counters c;
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto tcp dport 80", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80, .payload_len = 33 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080, .payload_len = 33 },
	}, &r, "SYN to the service, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_TCP,
			.sport = 8080, .dport = 40000, .payload_len = 7 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_TCP,
			 .sport = 80, .dport = 40000, .payload_len = 7 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	}, &r, "SYN-ACK from the backend, reply restored");
	/* The flow's next packet comes from conntrack, not from the rule. */
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80, .payload_len = 100 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080, .payload_len = 100 },
		.tw = { .tcp_flags = TCP_ACK },
	}, &r, "ACK with data, forward from conntrack");
	sl_dp_rule_stats(n.fwd, slot, &c);
	CHECK(c.packets == 2 && !c.nat_failures, "rule counters: %llu packets, %llu failures",
	      (unsigned long long)c.packets, (unsigned long long)c.nat_failures);
	/* The service's other ports and other protocols are not the rule's. */
	expect_untouched(n.fwd, &(struct frame_spec){ .family = 4, .src = CLIENT, .dst = VIP,
						      .proto = IPPROTO_TCP, .sport = 40000,
						      .dport = 81 },
			 &(struct tweak){ 0 }, 0, "another port of the service");
	expect_untouched(n.rep, &(struct frame_spec){ .family = 4, .src = BACKEND, .dst = CLIENT,
						      .proto = IPPROTO_TCP, .sport = 8080,
						      .dport = 40001 },
			 &(struct tweak){ .tcp_flags = TCP_ACK }, 0, "a reply of no flow");
out:
	nat_close(&n);
}

static void nat_tcp_snat(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_SRC, .to_src = PUBLIC };
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "src " CLIENT " proto tcp", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = SERVER, .proto = IPPROTO_TCP,
			.sport = 51000, .dport = 443, .payload_len = 20 },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_TCP,
			 .sport = 51000, .dport = 443, .payload_len = 20 },
	}, &r, "SYN out, source translated");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_TCP,
			.sport = 443, .dport = 51000, .payload_len = 1 },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT, .proto = IPPROTO_TCP,
			 .sport = 443, .dport = 51000, .payload_len = 1 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	}, &r, "SYN-ACK back, destination restored");
out:
	nat_close(&n);
}

static void nat_ipv4_options(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 8080 };
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto tcp dport 80", 4, &x, &slot))
		goto out;
	/* ihl 7: the transport header and its checksum sit 8 bytes further. */
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80, .ip_opt_len = 8, .payload_len = 10 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080, .ip_opt_len = 8, .payload_len = 10 },
	}, &r, "IPv4 options, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_TCP,
			.sport = 8080, .dport = 40000, .ip_opt_len = 12, .payload_len = 3 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_TCP,
			 .sport = 80, .dport = 40000, .ip_opt_len = 12, .payload_len = 3 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	}, &r, "IPv4 options, reply");
out:
	nat_close(&n);
}

static void nat_udp(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 5353 };
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto udp dport 53", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_UDP,
			.sport = 5000, .dport = 53, .payload_len = 29 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_UDP,
			 .sport = 5000, .dport = 5353, .payload_len = 29 },
	}, &r, "UDP with checksum, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_UDP,
			.sport = 5353, .dport = 5000, .payload_len = 60 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_UDP,
			 .sport = 53, .dport = 5000, .payload_len = 60 },
	}, &r, "UDP with checksum, reply");
	/* IPv4 lets UDP go without a checksum; a rewrite must not invent one. */
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_UDP,
			.sport = 5001, .dport = 53, .payload_len = 12 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_UDP,
			 .sport = 5001, .dport = 5353, .payload_len = 12 },
		.tw = { .no_udp_csum = true },
	}, &r, "UDP without checksum, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_UDP,
			.sport = 5353, .dport = 5001, .payload_len = 12 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_UDP,
			 .sport = 53, .dport = 5001, .payload_len = 12 },
		.tw = { .no_udp_csum = true },
	}, &r, "UDP without checksum, reply");
out:
	nat_close(&n);
}

/*
 * A datagram whose checksum, recomputed after the rewrite, is 0: UDP must
 * send it as 0xffff, since 0 would mean "no checksum". Two payload bytes
 * are chosen so that the translated datagram sums to all ones.
 */
static void nat_udp_csum_ffff(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 5353 };
	const struct frame_spec in_spec = { .family = 4, .src = CLIENT, .dst = VIP,
					    .proto = IPPROTO_UDP, .sport = 5002, .dport = 53,
					    .payload_len = 16 };
	const struct frame_spec out_spec = { .family = 4, .src = CLIENT, .dst = BACKEND,
					     .proto = IPPROTO_UDP, .sport = 5002, .dport = 5353,
					     .payload_len = 16 };
	struct frame in, want;
	struct nat n;
	struct run r;
	uint32_t slot;
	uint16_t adjust;
	uint8_t *ip, *l4;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto udp dport 53", 4, &x, &slot))
		goto out;
	if (!case_build(&out_spec, &want, "translated datagram", __FILE__, __LINE__) ||
	    !case_build(&in_spec, &in, "datagram", __FILE__, __LINE__))
		goto out;
	ip = want.data + want.l3_off;
	l4 = want.data + want.l4_off;
	/* With the checksum field and the adjusted word 0, ~fresh is the sum to top up. */
	put16(l4 + 8, 0);
	adjust = (uint16_t)(0xffff - (uint16_t)~l4_csum_fresh(ip, l4, ip_l4_len(ip)));
	put16(l4 + 8, adjust);
	put16(in.data + in.l4_off + 8, adjust);
	CHECK(fold(sum_bytes(ip_src(ip), 4, sum_bytes(ip_dst(ip), 4, IPPROTO_UDP + 24)) +
		   sum_bytes(l4, 24, 0)) == 0xffff,
	      "the translated datagram sums to all ones");
	seal(&want);
	seal(&in);
	CHECK(get16(l4 + 6) == 0xffff, "from scratch, its checksum is sent as ffff: %04x",
	      get16(l4 + 6));
	CHECK(get16(in.data + in.l4_off + 6) != 0 && get16(in.data + in.l4_off + 6) != 0xffff,
	      "the untranslated datagram's checksum is an ordinary one: %04x",
	      get16(in.data + in.l4_off + 6));
	run_frame(n.fwd, in.data, in.len, &r);
	CHECK(get16(r.out + want.l4_off + 6) == 0xffff,
	      "a checksum that becomes 0 is sent as ffff: got %04x",
	      get16(r.out + want.l4_off + 6));
	check_frame(&r, want.data, want.len, TC_ACT_OK, "UDP checksum 0 after the rewrite");
out:
	nat_close(&n);
}

/*
 * An ICMP(v6) error from src to dst about the IP packet at quote (qlen
 * bytes); rest is the header's second word (unused, MTU).
 */
static bool make_icmp_error(struct frame *f, int family, const char *src, const char *dst,
			    uint8_t type, uint8_t code, uint32_t rest, const uint8_t *quote,
			    size_t qlen)
{
	uint8_t *l4;

	if (!BUILD(f, .family = family, .src = src, .dst = dst,
		   .proto = family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6,
		   .payload_len = (uint16_t)qlen))
		return false;
	l4 = f->data + f->l4_off;
	l4[0] = type;
	l4[1] = code;
	put16(l4 + 4, (uint16_t)(rest >> 16));
	put16(l4 + 6, (uint16_t)rest);
	memcpy(l4 + 8, quote, qlen);
	seal(f);
	return true;
}

/*
 * Checks the quote of a translated ICMP error: its addresses and ports, its
 * IP header checksum and, when the quote holds the whole packet, its
 * transport checksum, each against a full recomputation.
 */
static void check_quote(const struct run *r, const struct frame *want, const char *what)
{
	const uint8_t *q = r->out + want->l4_off + 8, *wq = want->data + want->l4_off + 8;
	size_t qlen = want->len - want->l4_off - 8, alen = addr_len(wq);
	const uint8_t *ql4 = q + ip_hdr_len(wq), *wql4 = wq + ip_hdr_len(wq);
	size_t csum_off = l4_csum_off(ip_proto(wq));
	char buf[160];

	if (r->out_len != want->len)
		return; /* check_frame has said so */
	snprintf(buf, sizeof(buf), "%s: quoted source", what);
	same_addr(ip_src(q), ip_src(wq), alen, buf);
	snprintf(buf, sizeof(buf), "%s: quoted destination", what);
	same_addr(ip_dst(q), ip_dst(wq), alen, buf);
	if (ip_family(wq) == 4)
		CHECK(ipv4_hdr_ok(q), "%s: quoted IPv4 header checksum %04x verifies", what,
		      get16(q + 10));
	CHECK(get16(ql4) == get16(wql4) && get16(ql4 + 2) == get16(wql4 + 2),
	      "%s: quoted ports %u -> %u, want %u -> %u", what, get16(ql4), get16(ql4 + 2),
	      get16(wql4), get16(wql4 + 2));
	if (qlen >= ip_hdr_len(wq) + ip_l4_len(wq))
		CHECK(get16(ql4 + csum_off) == l4_csum_fresh(q, ql4, ip_l4_len(q)),
		      "%s: quoted transport checksum %04x, recomputed %04x", what,
		      get16(ql4 + csum_off), l4_csum_fresh(q, ql4, ip_l4_len(q)));
}

/*
 * One ICMP error about a flow: the error as it arrives at hook h quotes the
 * flow's packet as it left the other hook (that hook's output, fwd), and
 * must come out quoting it as its sender sent it (orig), addressed as given.
 */
static void expect_icmp_error(struct sl_dp_hook *h, int family, uint8_t type, uint8_t code,
			      uint32_t rest, const char *in_src, const char *in_dst,
			      const char *out_src, const char *out_dst, const struct run *fwd,
			      const struct frame *orig, size_t qlen, const char *what)
{
	struct frame in, want;
	struct run r;

	if (!make_icmp_error(&in, family, in_src, in_dst, type, code, rest, fwd->out + ETH_LEN,
			     qlen) ||
	    !make_icmp_error(&want, family, out_src, out_dst, type, code, rest,
			     orig->data + orig->l3_off, qlen))
		return;
	run_frame(h, in.data, in.len, &r);
	CHECK(get16(r.out + in.l4_off + 4) == get16(want.data + want.l4_off + 4) &&
	      get16(r.out + in.l4_off + 6) == get16(want.data + want.l4_off + 6),
	      "%s: the ICMP header's second word (MTU) is kept", what);
	check_quote(&r, &want, what);
	check_frame(&r, want.data, want.len, TC_ACT_OK, what);
}

/* The forward packet of a flow, kept for the errors that quote it. */
static bool start_flow(struct sl_dp_hook *h, const struct leg *l, struct frame *orig,
		       struct run *r, const char *what)
{
	return make_frame(&l->in, &l->tw, 0, orig, what) && expect_leg(h, l, r, what);
}

static void nat_icmp_echo(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_SRC, .to_src = PUBLIC };
	const struct leg req = {
		.in = { .family = 4, .src = CLIENT, .dst = SERVER, .proto = IPPROTO_ICMP,
			.payload_len = 56 },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_ICMP,
			 .payload_len = 56 },
	};
	struct frame orig;
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "src " CLIENT " proto icmp", 4, &x, &slot))
		goto out;
	if (!start_flow(n.fwd, &req, &orig, &r, "echo request, source translated, identifier kept"))
		goto out;
	/* traceroute -I: a router's error quoting the echo request finds the flow too. */
	expect_icmp_error(n.rep, 4, ICMP_TIME_EXCEEDED, 0, 0, ROUTER, PUBLIC, ROUTER, CLIENT, &r,
			  &orig, orig.len - orig.l3_off, "time exceeded about an echo request");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_ICMP,
			.payload_len = 56 },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT, .proto = IPPROTO_ICMP,
			 .payload_len = 56 },
		.tw = { .echo_reply = true },
	}, &r, "echo reply, destination restored");
	/* A reply with another identifier is no reply of this flow. */
	expect_untouched(n.rep, &(struct frame_spec){ .family = 4, .src = SERVER, .dst = PUBLIC,
						      .proto = IPPROTO_ICMP },
			 &(struct tweak){ .echo_reply = true }, ECHO_ID + 1,
			 "echo reply with no flow");
out:
	nat_close(&n);
}

static void nat_icmp_port_unreach(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 5353 };
	const struct leg l = {
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_UDP,
			.sport = 5000, .dport = 53, .payload_len = 24 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_UDP,
			 .sport = 5000, .dport = 5353, .payload_len = 24 },
	};
	const struct leg l_reply = {
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_UDP,
			.sport = 5353, .dport = 5000, .payload_len = 40 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_UDP,
			 .sport = 53, .dport = 5000, .payload_len = 40 },
	};
	struct frame orig;
	struct nat n;
	struct run fwd;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto udp dport 53", 4, &x, &slot) ||
	    !start_flow(n.fwd, &l, &orig, &fwd, "UDP query, forward"))
		goto out;
	/* The backend has nothing on 5353: it says so, quoting the whole datagram. */
	expect_icmp_error(n.rep, 4, ICMP_DEST_UNREACH, 3, 0, BACKEND, CLIENT, VIP, CLIENT, &fwd,
			  &orig, orig.len - orig.l3_off, "port unreachable from the backend");

	/*
	 * The other way: the client's own error about the translated reply
	 * reaches the forward hook and must reach the backend quoting what
	 * the backend sent.
	 */
	if (!start_flow(n.rep, &l_reply, &orig, &fwd, "UDP answer, reply"))
		goto out;
	expect_icmp_error(n.fwd, 4, ICMP_DEST_UNREACH, 3, 0, CLIENT, VIP, CLIENT, BACKEND, &fwd,
			  &orig, orig.len - orig.l3_off, "port unreachable from the client");
out:
	nat_close(&n);
}

static void nat_icmp_frag_needed(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 8080 };
	const struct leg l = {
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80, .dont_fragment = true, .payload_len = 200 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080, .dont_fragment = true, .payload_len = 200 },
		.tw = { .tcp_flags = TCP_ACK },
	};
	struct frame orig;
	struct nat n;
	struct run fwd;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto tcp dport 80", 4, &x, &slot) ||
	    !start_flow(n.fwd, &l, &orig, &fwd, "TCP segment with DF, forward"))
		goto out;
	/* RFC 792's minimum quote: the IP header and 8 bytes, so no TCP checksum in it. */
	expect_icmp_error(n.rep, 4, ICMP_DEST_UNREACH, 4, 1400, BACKEND, CLIENT, VIP, CLIENT,
			  &fwd, &orig, 20 + 8, "fragmentation needed, 8-byte quote");
	/* A quote that holds the TCP header with its checksum. */
	expect_icmp_error(n.rep, 4, ICMP_DEST_UNREACH, 4, 1400, BACKEND, CLIENT, VIP, CLIENT,
			  &fwd, &orig, 20 + 20, "fragmentation needed, TCP header quoted");
out:
	nat_close(&n);
}

static void nat_icmp_time_exceeded(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_SRC, .to_src = PUBLIC };
	const struct leg l = {
		.in = { .family = 4, .src = CLIENT, .dst = SERVER, .proto = IPPROTO_UDP,
			.sport = 33434, .dport = 33435, .payload_len = 32 },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_UDP,
			 .sport = 33434, .dport = 33435, .payload_len = 32 },
	};
	struct frame orig;
	struct nat n;
	struct run fwd;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "src " CLIENT " proto udp", 4, &x, &slot) ||
	    !start_flow(n.fwd, &l, &orig, &fwd, "traceroute probe, forward"))
		goto out;
	/* A router on the way is no part of the flow: its address stays. */
	expect_icmp_error(n.rep, 4, ICMP_TIME_EXCEEDED, 0, 0, ROUTER, PUBLIC, ROUTER, CLIENT,
			  &fwd, &orig, orig.len - orig.l3_off, "time exceeded from a router");
out:
	nat_close(&n);
}

static void nat_icmpv6_too_big(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND6,
				 .to_dport = 8080 };
	const struct leg l = {
		.in = { .family = 6, .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80, .payload_len = 64 },
		.out = { .family = 6, .src = CLIENT6, .dst = BACKEND6, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080, .payload_len = 64 },
		.tw = { .tcp_flags = TCP_ACK },
	};
	struct frame orig;
	struct nat n;
	struct run fwd;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) ||
	    !nat_rule(&n, "dst " VIP6 " proto tcp dport 80", 6, &x, &slot) ||
	    !start_flow(n.fwd, &l, &orig, &fwd, "IPv6 TCP segment, forward"))
		goto out;
	expect_icmp_error(n.rep, 6, ICMPV6_PKT_TOOBIG, 0, 1280, BACKEND6, CLIENT6, VIP6, CLIENT6,
			  &fwd, &orig, orig.len - orig.l3_off, "packet too big from the backend");
out:
	nat_close(&n);
}

static void nat_ipv6(struct tcase *t)
{
	const struct xlate dnat = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND6,
				    .to_dport = 8443 };
	const struct xlate snat = { .flags = SL_NAT_SRC, .to_src = PUBLIC6 };
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) ||
	    !nat_rule(&n, "dst " VIP6 " proto tcp dport 443", 6, &dnat, &slot) ||
	    !nat_rule(&n, "src " CLIENT6 " dst " SERVER6 " proto udp", 6, &snat, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 6, .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 443, .payload_len = 17 },
		.out = { .family = 6, .src = CLIENT6, .dst = BACKEND6, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8443, .payload_len = 17 },
	}, &r, "IPv6 TCP DNAT, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 6, .src = BACKEND6, .dst = CLIENT6, .proto = IPPROTO_TCP,
			.sport = 8443, .dport = 40000, .payload_len = 5 },
		.out = { .family = 6, .src = VIP6, .dst = CLIENT6, .proto = IPPROTO_TCP,
			 .sport = 443, .dport = 40000, .payload_len = 5 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	}, &r, "IPv6 TCP DNAT, reply");
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 6, .src = CLIENT6, .dst = SERVER6, .proto = IPPROTO_UDP,
			.sport = 6000, .dport = 123, .payload_len = 48 },
		.out = { .family = 6, .src = PUBLIC6, .dst = SERVER6, .proto = IPPROTO_UDP,
			 .sport = 6000, .dport = 123, .payload_len = 48 },
	}, &r, "IPv6 UDP SNAT, forward");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 6, .src = SERVER6, .dst = PUBLIC6, .proto = IPPROTO_UDP,
			.sport = 123, .dport = 6000, .payload_len = 48 },
		.out = { .family = 6, .src = SERVER6, .dst = CLIENT6, .proto = IPPROTO_UDP,
			 .sport = 123, .dport = 6000, .payload_len = 48 },
	}, &r, "IPv6 UDP SNAT, reply");
	/* An IPv4 packet with the same ports is none of the IPv6 rules' business. */
	expect_untouched(n.fwd, &(struct frame_spec){ .family = 4, .src = CLIENT, .dst = VIP,
						      .proto = IPPROTO_TCP, .sport = 40000,
						      .dport = 443 },
			 &(struct tweak){ 0 }, 0, "IPv4 packet at the IPv6 rules");
out:
	nat_close(&n);
}

/*
 * A UDP datagram in two IPv4 fragments: UDP header and 16 bytes first, 24
 * more at offset 3 (24 bytes). The UDP checksum covers the whole datagram,
 * so it is computed over both.
 */
#define FRAG1_PAYLOAD 16
#define FRAG2_LEN 24

static bool make_fragments(struct frame *first, struct frame *later, const char *src,
			   const char *dst, uint16_t sport, uint16_t dport)
{
	uint8_t dgram[8 + FRAG1_PAYLOAD + FRAG2_LEN], *ip, *l4;

	if (!BUILD(first, .family = 4, .src = src, .dst = dst, .proto = IPPROTO_UDP,
		   .sport = sport, .dport = dport, .more_fragments = true,
		   .payload_len = FRAG1_PAYLOAD) ||
	    /* The builder writes 8 bytes that look like ports: a parser must not read them. */
	    !BUILD(later, .family = 4, .src = src, .dst = dst, .proto = IPPROTO_UDP,
		   .sport = 0x5a5a, .dport = 0x5a5a, .frag_offset = (8 + FRAG1_PAYLOAD) / 8,
		   .payload_len = FRAG2_LEN - 8))
		return false;
	for (size_t i = 8; i < FRAG2_LEN; i++)
		later->data[later->l4_off + i] = (uint8_t)(i * 7 + 3);
	ip = first->data + first->l3_off;
	l4 = first->data + first->l4_off;
	put16(l4 + 4, sizeof(dgram));
	memcpy(dgram, l4, 8 + FRAG1_PAYLOAD);
	memcpy(dgram + 8 + FRAG1_PAYLOAD, later->data + later->l4_off, FRAG2_LEN);
	/* The pseudo-header's length is the datagram's, not this fragment's. */
	put16(l4 + 6, l4_csum_fresh(ip, dgram, sizeof(dgram)));
	return true;
}

static uint16_t dgram_csum(const uint8_t *first, const uint8_t *later, uint16_t *fresh)
{
	uint8_t dgram[8 + FRAG1_PAYLOAD + FRAG2_LEN];
	const uint8_t *ip = first + ETH_LEN;

	memcpy(dgram, ip + ip_hdr_len(ip), 8 + FRAG1_PAYLOAD);
	memcpy(dgram + 8 + FRAG1_PAYLOAD, later + ETH_LEN + 20, FRAG2_LEN);
	*fresh = l4_csum_fresh(ip, dgram, sizeof(dgram));
	return get16(dgram + 6);
}

static void nat_fragments(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 5353 };
	struct frame first, later, want_first, want_later;
	struct run r1, r2;
	uint16_t got, fresh;
	struct nat n;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto udp dport 53", 4, &x, &slot) ||
	    !make_fragments(&first, &later, CLIENT, VIP, 5000, 53) ||
	    !make_fragments(&want_first, &want_later, CLIENT, BACKEND, 5000, 5353))
		goto out;
	/* A later fragment of a datagram nobody has seen passes as it is. */
	run_frame(n.fwd, later.data, later.len, &r2);
	CHECK(r2.retval == TC_ACT_UNSPEC && !memcmp(r2.out, later.data, later.len),
	      "later fragment before its first: retval %d, unchanged", r2.retval);

	run_frame(n.fwd, first.data, first.len, &r1);
	check_frame(&r1, want_first.data, want_first.len, TC_ACT_OK, "first fragment");
	run_frame(n.fwd, later.data, later.len, &r2);
	check_frame(&r2, want_later.data, want_later.len, TC_ACT_OK, "later fragment");
	CHECK(r2.out_len == later.len &&
	      !memcmp(r2.out + later.l4_off, later.data + later.l4_off, FRAG2_LEN),
	      "later fragment: payload untouched");
	if (r1.out_len == first.len && r2.out_len == later.len) {
		got = dgram_csum(r1.out, r2.out, &fresh);
		CHECK(got == fresh, "UDP checksum of the translated datagram %04x, recomputed %04x",
		      got, fresh);
	}
out:
	nat_close(&n);
}

struct walk {
	int n;
	struct sl_ct_flow flows[4];
};

static int collect(const struct sl_ct_flow *flow, void *arg)
{
	struct walk *w = arg;

	if (w->n < 4)
		w->flows[w->n] = *flow;
	w->n++;
	return 0;
}

static const struct sl_ct_flow *flow_from(const struct walk *w, const char *client)
{
	uint8_t a[4];

	inet_pton(AF_INET, client, a);
	for (int i = 0; i < w->n && i < 4; i++)
		if (!memcmp(w->flows[i].key.src, a, 4))
			return &w->flows[i];
	return NULL;
}

/* A listed flow: its original tuple and the translated one. */
static void check_listed(const struct walk *w, const char *client, const char *dst,
			 uint8_t proto, uint16_t sport, uint16_t dport, uint16_t to_sport)
{
	const struct sl_ct_flow *f = flow_from(w, client);
	uint8_t c[4], d[4], p[4];

	if (!CHECK(f, "conntrack lists the flow from %s", client))
		return;
	inet_pton(AF_INET, dst, d);
	inet_pton(AF_INET, client, c);
	inet_pton(AF_INET, PUBLIC, p);
	CHECK(f->key.family == SL_FAMILY_IPV4 && f->key.proto == proto && f->key.zone == 0 &&
	      !memcmp(f->key.dst, d, 4) && ntohs(f->key.sport) == sport &&
	      ntohs(f->key.dport) == dport,
	      "flow from %s: original tuple proto %u, ports %u -> %u", client, f->key.proto,
	      ntohs(f->key.sport), ntohs(f->key.dport));
	CHECK(f->fwd.dir == SL_CT_FORWARD && !memcmp(f->fwd.rewrite.src, p, 4) &&
	      !memcmp(f->fwd.rewrite.dst, d, 4) && ntohs(f->fwd.rewrite.sport) == to_sport &&
	      ntohs(f->fwd.rewrite.dport) == dport && f->fwd.rule_id == RULE_ID,
	      "flow from %s: translated to source port %u, want %u", client,
	      ntohs(f->fwd.rewrite.sport), to_sport);
	CHECK(f->has_reply && f->reply.dir == SL_CT_REPLY && !memcmp(f->reply.rewrite.dst, c, 4) &&
	      ntohs(f->reply.rewrite.dport) == sport && f->expires_ns > 0,
	      "flow from %s: reply entry restores it", client);
}

/*
 * Two clients, the same source port, the same server, one public address:
 * the second flow's translated tuple would be the first's, so its source
 * port moves into the configured range, and each reply finds its client.
 */
static void nat_port_collision(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_SRC, .to_src = PUBLIC };
	struct frame f;
	struct walk w = { 0 };
	unsigned int removed = 0;
	uint16_t moved;
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, PORT_LO, PORT_HI) ||
	    !nat_rule(&n, "src 192.0.2.0/24 dst " SERVER " proto udp", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = SERVER, .proto = IPPROTO_UDP,
			.sport = 5000, .dport = 53, .payload_len = 20 },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_UDP,
			 .sport = 5000, .dport = 53, .payload_len = 20 },
	}, &r, "first client: port kept");
	if (!make_frame(&(struct frame_spec){ .family = 4, .src = CLIENT2, .dst = SERVER,
					      .proto = IPPROTO_UDP, .sport = 5000, .dport = 53,
					      .payload_len = 20 },
			&(struct tweak){ 0 }, 0, &f, "second client"))
		goto out;
	run_frame(n.fwd, f.data, f.len, &r);
	moved = get16(r.out + f.l4_off);
	CHECK(moved >= PORT_LO && moved <= PORT_HI,
	      "second client: source port moved to %u, want %u-%u", moved, PORT_LO, PORT_HI);
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT2, .dst = SERVER, .proto = IPPROTO_UDP,
			.sport = 5000, .dport = 53, .payload_len = 20 },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_UDP,
			 .sport = moved, .dport = 53, .payload_len = 20 },
	}, &r, "second client: its next packet takes the same port");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_UDP,
			.sport = 53, .dport = 5000, .payload_len = 40 },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT, .proto = IPPROTO_UDP,
			 .sport = 53, .dport = 5000, .payload_len = 40 },
	}, &r, "reply to the first client");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_UDP,
			.sport = 53, .dport = moved, .payload_len = 40 },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT2, .proto = IPPROTO_UDP,
			 .sport = 53, .dport = 5000, .payload_len = 40 },
	}, &r, "reply to the second client");

	CHECK(sl_dp_ct_walk(n.ct, collect, &w) == 0 && w.n == 2, "conntrack lists %d flows, want 2",
	      w.n);
	check_listed(&w, CLIENT, SERVER, IPPROTO_UDP, 5000, 53, 5000);
	check_listed(&w, CLIENT2, SERVER, IPPROTO_UDP, 5000, 53, moved);

	/* Another rule's flush leaves these; a full one takes both entries of both. */
	CHECK(sl_dp_ct_flush(n.ct, RULE_ID + 1, &removed) == 0 && removed == 0,
	      "flush of another rule removed %u flows", removed);
	CHECK(sl_dp_ct_flush(n.ct, 0, &removed) == 0 && removed == 2,
	      "flush removed %u flows, want 2", removed);
	w.n = 0;
	CHECK(sl_dp_ct_walk(n.ct, collect, &w) == 0 && w.n == 0, "after the flush %d flows", w.n);
	expect_untouched(n.rep, &(struct frame_spec){ .family = 4, .src = SERVER, .dst = PUBLIC,
						      .proto = IPPROTO_UDP, .sport = 53,
						      .dport = moved },
			 &(struct tweak){ 0 }, 0, "reply after the flush");
out:
	nat_close(&n);
}

/* The same for ICMP echo: the identifier is the port that moves. */
static void nat_echo_collision(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_SRC, .to_src = PUBLIC };
	struct frame f;
	uint16_t moved;
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, PORT_LO, PORT_HI) ||
	    !nat_rule(&n, "src 192.0.2.0/24 proto icmp", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT, .dst = SERVER, .proto = IPPROTO_ICMP },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_ICMP },
	}, &r, "first client's echo: identifier kept");
	if (!make_frame(&(struct frame_spec){ .family = 4, .src = CLIENT2, .dst = SERVER,
					      .proto = IPPROTO_ICMP },
			&(struct tweak){ 0 }, 0, &f, "second client's echo"))
		goto out;
	run_frame(n.fwd, f.data, f.len, &r);
	moved = get16(r.out + f.l4_off + 4);
	CHECK(moved >= PORT_LO && moved <= PORT_HI,
	      "second client's echo: identifier moved to %u, want %u-%u", moved, PORT_LO, PORT_HI);
	expect_leg(n.fwd, &(struct leg){
		.in = { .family = 4, .src = CLIENT2, .dst = SERVER, .proto = IPPROTO_ICMP },
		.out = { .family = 4, .src = PUBLIC, .dst = SERVER, .proto = IPPROTO_ICMP },
		.out_id = moved,
	}, &r, "second client's next echo: the same identifier");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_ICMP },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT, .proto = IPPROTO_ICMP },
		.tw = { .echo_reply = true },
	}, &r, "echo reply to the first client");
	expect_leg(n.rep, &(struct leg){
		.in = { .family = 4, .src = SERVER, .dst = PUBLIC, .proto = IPPROTO_ICMP },
		.out = { .family = 4, .src = SERVER, .dst = CLIENT2, .proto = IPPROTO_ICMP },
		.tw = { .echo_reply = true },
		.in_id = moved,
	}, &r, "echo reply to the second client, identifier restored");
out:
	nat_close(&n);
}

static void nat_drop_wins(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 8080 };
	const struct leg fwd = {
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080 },
	};
	const struct leg rep = {
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_TCP,
			.sport = 8080, .dport = 40000 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_TCP,
			 .sport = 80, .dport = 40000 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	};
	uint32_t slot, drop_fwd, drop_rep;
	struct frame f;
	struct nat n;
	struct run r;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto tcp dport 80", 4, &x, &slot) ||
	    !expect_leg(n.fwd, &fwd, &r, "flow established, forward") ||
	    !expect_leg(n.rep, &rep, &r, "flow established, reply"))
		goto out;
	/* A drop rule added while the flow lives still stops its packets, both ways. */
	if (!drop_rule(n.fwd, "src " CLIENT, &drop_fwd) ||
	    !drop_rule(n.rep, "src " BACKEND " proto tcp", &drop_rep))
		goto out;
	if (make_frame(&fwd.in, &fwd.tw, 0, &f, "forward")) {
		run_frame(n.fwd, f.data, f.len, &r);
		CHECK(r.retval == TC_ACT_SHOT, "forward packet of a flow, drop rule: retval %d",
		      r.retval);
	}
	if (make_frame(&rep.in, &rep.tw, 0, &f, "reply")) {
		run_frame(n.rep, f.data, f.len, &r);
		CHECK(r.retval == TC_ACT_SHOT, "reply of a flow, drop rule: retval %d", r.retval);
	}
	del_rule(n.fwd, drop_fwd);
	del_rule(n.rep, drop_rep);
	expect_leg(n.fwd, &fwd, &r, "drop rule gone: forward translated again");
	expect_leg(n.rep, &rep, &r, "drop rule gone: reply translated again");
out:
	nat_close(&n);
}

/*
 * A rewrite rule with a redirect: translated packets are redirected. Its
 * replies go back out the interface the flow came in on (tc ingress), to
 * the MAC the flow came from, from the MAC it was sent to.
 */
static void nat_redirect(struct tcase *t)
{
	const struct xlate x = { .flags = SL_NAT_DST | SL_NAT_DPORT, .to_dst = BACKEND,
				 .to_dport = 8080, .redirect_mode = SL_REDIR_EGRESS };
	const struct leg fwd = {
		.in = { .family = 4, .src = CLIENT, .dst = VIP, .proto = IPPROTO_TCP,
			.sport = 40000, .dport = 80 },
		.out = { .family = 4, .src = CLIENT, .dst = BACKEND, .proto = IPPROTO_TCP,
			 .sport = 40000, .dport = 8080 },
		.retval = TC_ACT_REDIRECT,
	};
	const struct leg rep = {
		.in = { .family = 4, .src = BACKEND, .dst = CLIENT, .proto = IPPROTO_TCP,
			.sport = 8080, .dport = 40000 },
		.out = { .family = 4, .src = VIP, .dst = CLIENT, .proto = IPPROTO_TCP,
			 .sport = 80, .dport = 40000 },
		.tw = { .tcp_flags = TCP_SYN | TCP_ACK },
	};
	struct frame in, want;
	uint8_t mac[6];
	struct nat n;
	struct run r;
	uint32_t slot;

	TC_ONLY(t);
	if (!nat_open(&n, 0, 0) || !nat_rule(&n, "dst " VIP " proto tcp dport 80", 4, &x, &slot))
		goto out;
	expect_leg(n.fwd, &fwd, &r, "rewrite with redirect: first packet");
	expect_leg(n.fwd, &fwd, &r, "rewrite with redirect: from conntrack");
	if (!make_frame(&rep.in, &rep.tw, 0, &in, "reply") ||
	    !make_frame(&rep.out, &rep.tw, 0, &want, "reply"))
		goto out;
	memcpy(mac, want.data, 6);
	memcpy(want.data, want.data + 6, 6);
	memcpy(want.data + 6, mac, 6);
	run_frame(n.rep, in.data, in.len, &r);
	check_frame(&r, want.data, want.len, TC_ACT_REDIRECT,
		    "reply redirected back with the MACs swapped");
out:
	nat_close(&n);
}

const struct case_def cases_nat[] = {
	{ "nat-tcp-dnat", nat_tcp_dnat },
	{ "nat-tcp-snat", nat_tcp_snat },
	{ "nat-ipv4-options", nat_ipv4_options },
	{ "nat-udp", nat_udp },
	{ "nat-udp-csum-ffff", nat_udp_csum_ffff },
	{ "nat-icmp-echo", nat_icmp_echo },
	{ "nat-icmp-port-unreach", nat_icmp_port_unreach },
	{ "nat-icmp-frag-needed", nat_icmp_frag_needed },
	{ "nat-icmp-time-exceeded", nat_icmp_time_exceeded },
	{ "nat-icmpv6-too-big", nat_icmpv6_too_big },
	{ "nat-ipv6", nat_ipv6 },
	{ "nat-fragments", nat_fragments },
	{ "nat-port-collision", nat_port_collision },
	{ "nat-echo-collision", nat_echo_collision },
	{ "nat-drop-wins", nat_drop_wins },
	{ "nat-redirect", nat_redirect },
	{ NULL, NULL },
};
