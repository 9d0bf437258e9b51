// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Rewrite rules: from what the operator asked to the datapath's translation. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "ruleset.h"

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_IP6 0x86dd

static const char *family_name(int family)
{
	return family == 4 ? "IPv4" : "IPv6";
}

/* The one family the translation's addresses name, 0 if none, -1 if they disagree. */
static int translation_family(const struct sl_rewrite_spec *rw)
{
	if (rw->has_src && rw->has_dst && rw->to_src.family != rw->to_dst.family)
		return -1;
	if (rw->has_src)
		return rw->to_src.family;
	if (rw->has_dst)
		return rw->to_dst.family;
	return 0;
}

static int check_proto(const struct sl_match *m, const struct sl_rewrite_spec *rw, int family,
		       struct sl_err *err)
{
	bool ports = rw->has_sport || rw->has_dport;

	if (!m->has_proto)
		return 0;
	switch (m->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if ((m->proto == IPPROTO_ICMP) != (family == 4))
			return sl_err_set(err, EINVAL, "proto %s does not go with %s addresses",
					  m->proto == IPPROTO_ICMP ? "icmp" : "icmpv6",
					  family_name(family));
		if (ports)
			return sl_err_set(err, EINVAL,
					  "ICMP has no ports to rewrite (echo identifiers are kept, or moved on collisions)");
		return 0;
	}
	return sl_err_set(err, EINVAL,
			  "rewrite translates tcp, udp, icmp and icmpv6; proto %u has no translation",
			  m->proto);
}

int sl_rewrite_prepare(struct sl_rule_spec *spec, uint64_t rule_id, struct sl_nat_rule *out,
		       struct sl_err *err)
{
	const struct sl_rewrite_spec *rw = &spec->rewrite;
	struct sl_match *m = &spec->match;
	int family = translation_family(rw), match_family;

	memset(out, 0, sizeof(*out));
	if (spec->kind == SL_HOOK_XDP)
		return sl_err_set(err, EINVAL, "rewrite rules need a tc hook (tc-ingress or tc-egress)");
	if (!rw->has_src && !rw->has_dst && !rw->has_sport && !rw->has_dport)
		return sl_err_set(err, EINVAL,
				  "a rewrite needs at least one of to-src, to-dst, to-sport, to-dport");
	/* Narrowing the match to the family below must not turn it into another one. */
	if (m->has_ether_type && m->ether_type != ETHERTYPE_IP && m->ether_type != ETHERTYPE_IP6) {
		const char *name = sl_ether_type_name(m->ether_type);

		if (name)
			return sl_err_set(err, EINVAL,
					  "ether-type %s carries no IP packet to translate", name);
		return sl_err_set(err, EINVAL, "ether-type 0x%04x carries no IP packet to translate",
				  m->ether_type);
	}
	if (family < 0)
		return sl_err_set(err, EINVAL, "to-src and to-dst must be of one family");
	match_family = sl_match_family(m);
	if (!family)
		family = match_family;
	if (!family)
		return sl_err_set(err, EINVAL,
				  "a rewrite of ports only needs the family: match src or dst (0.0.0.0/0 or ::/0 will do)");
	if (match_family && match_family != family)
		return sl_err_set(err, EINVAL, "the translation is %s but the match is %s",
				  family_name(family), family_name(match_family));
	if (check_proto(m, rw, family, err))
		return -EINVAL;
	if (spec->redirect.mode == SL_REDIR_ROUTE && !spec->redirect.to[0])
		return sl_err_set(err, EINVAL,
				  "redirect: a rewrite with mode route needs the interface (replies are restored on its ingress)");
	/* Only packets of the translated family can match. */
	if (!match_family) {
		m->has_ether_type = true;
		m->ether_type = family == 4 ? ETHERTYPE_IP : ETHERTYPE_IP6;
	}

	out->family = (uint8_t)family;
	out->rule_id = rule_id;
	if (rw->has_src) {
		memcpy(out->to_src, rw->to_src.addr, family == 4 ? 4 : 16);
		out->flags |= SL_NAT_SRC;
	}
	if (rw->has_dst) {
		memcpy(out->to_dst, rw->to_dst.addr, family == 4 ? 4 : 16);
		out->flags |= SL_NAT_DST;
	}
	if (rw->has_sport) {
		out->sport_lo = rw->to_sport.lo;
		out->sport_hi = rw->to_sport.hi;
		out->flags |= SL_NAT_SPORT;
	}
	if (rw->has_dport) {
		out->to_dport = htons(rw->to_dport);
		out->flags |= SL_NAT_DPORT;
	}
	return 0;
}
