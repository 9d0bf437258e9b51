// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "tc_query.h"

struct dump_req {
	struct nlmsghdr nh;
	struct tcmsg tc;
};

static void parse_bpf_opts(struct rtattr *opts, struct sl_tc_filter *f)
{
	int len = (int)RTA_PAYLOAD(opts);
	struct rtattr *a;

	for (a = RTA_DATA(opts); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_BPF_NAME)
			snprintf(f->prog_name, sizeof(f->prog_name), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
		else if (a->rta_type == TCA_BPF_ID && RTA_PAYLOAD(a) >= 4)
			memcpy(&f->prog_id, RTA_DATA(a), 4);
	}
}

/* One filter per message; the first message of a (prio) chain has no options. */
static int parse_msg(struct nlmsghdr *nh, bool egress, struct sl_tc_filter *f)
{
	struct tcmsg *tc = NLMSG_DATA(nh);
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*tc)));
	struct rtattr *a, *opts = NULL;

	memset(f, 0, sizeof(*f));
	f->egress = egress;
	f->priority = (uint16_t)(TC_H_MAJ(tc->tcm_info) >> 16);
	f->handle = tc->tcm_handle;
	for (a = TCA_RTA(tc); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == TCA_KIND)
			snprintf(f->kind, sizeof(f->kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
		else if (a->rta_type == TCA_OPTIONS)
			opts = a;
	}
	if (!opts)
		return 0; /* chain head without a filter behind it */
	if (!strcmp(f->kind, "bpf"))
		parse_bpf_opts(opts, f);
	return 1;
}

static int dump_parent(int sock, int ifindex, bool egress, struct sl_tc_filter *out, int max,
		       int found)
{
	struct dump_req req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct tcmsg)),
			.nlmsg_type = RTM_GETTFILTER,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = egress ? 2 : 1 },
		.tc = { .tcm_family = AF_UNSPEC, .tcm_ifindex = ifindex,
			.tcm_parent = TC_H_MAKE(TC_H_CLSACT,
						egress ? TC_H_MIN_EGRESS : TC_H_MIN_INGRESS) },
	};
	char buf[16384];

	if (send(sock, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (n < 0)
			return -errno;
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
			struct sl_tc_filter f;

			if (nh->nlmsg_type == NLMSG_DONE)
				return found;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(nh);

				/* No clsact qdisc or no such device: no filters. */
				return e->error == -EINVAL || e->error == -ENOENT ? found : e->error;
			}
			if (nh->nlmsg_type != RTM_NEWTFILTER || !parse_msg(nh, egress, &f))
				continue;
			if (found < max)
				out[found] = f;
			found++;
		}
	}
}

int sl_tc_filters(int ifindex, struct sl_tc_filter *out, int max)
{
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int found;

	if (sock < 0)
		return -errno;
	found = dump_parent(sock, ifindex, false, out, max, 0);
	if (found >= 0)
		found = dump_parent(sock, ifindex, true, out, max, found);
	close(sock);
	return found;
}

int sl_tc_filter_count(int ifindex)
{
	int n = sl_tc_filters(ifindex, NULL, 0);

	return n < 0 ? 0 : n;
}
