// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE /* setns */
/*
 * Interface facts for the generator, read over rtnetlink in the current
 * network namespace (sysfs would show the namespace /sys was mounted in,
 * which is wrong after --netns). RTM_GETLINK with IFLA_TARGET_NETNSID also
 * reads a veth's peer in the namespace it was moved to, which is how the
 * default destination MAC is found.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "trafficgen.h"

int tg_enter_netns(const char *name)
{
	char path[256];
	int fd, rc = 0;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		rc = -errno;
	close(fd);
	return rc;
}

struct link_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[64];
};

static void add_attr_s32(struct link_req *req, unsigned short type, int32_t v)
{
	struct rtattr *rta = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(sizeof(v));
	memcpy(RTA_DATA(rta), &v, sizeof(v));
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void parse_linkinfo(struct rtattr *nest, struct tg_link *l)
{
	int len = RTA_PAYLOAD(nest);
	struct rtattr *rta;

	for (rta = RTA_DATA(nest); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type == IFLA_INFO_KIND) {
			size_t n = RTA_PAYLOAD(rta);

			if (n >= sizeof(l->kind))
				n = sizeof(l->kind) - 1;
			memcpy(l->kind, RTA_DATA(rta), n);
			l->kind[n] = '\0';
		}
	}
}

static int parse_link(struct nlmsghdr *nh, struct tg_link *l)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = IFLA_PAYLOAD(nh);
	struct rtattr *rta;

	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		switch (rta->rta_type) {
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(rta) == TG_ETH_ALEN) {
				memcpy(l->mac, RTA_DATA(rta), TG_ETH_ALEN);
				l->have_mac = true;
			}
			break;
		case IFLA_MTU:
			memcpy(&l->mtu, RTA_DATA(rta), sizeof(uint32_t));
			break;
		case IFLA_LINK:
			memcpy(&l->peer_ifindex, RTA_DATA(rta), sizeof(int32_t));
			break;
		case IFLA_LINK_NETNSID:
			memcpy(&l->peer_nsid, RTA_DATA(rta), sizeof(int32_t));
			break;
		case IFLA_STATS64:
			if (RTA_PAYLOAD(rta) >= sizeof(struct rtnl_link_stats64)) {
				struct rtnl_link_stats64 st;

				memcpy(&st, RTA_DATA(rta), sizeof(st));
				l->tx_packets = st.tx_packets;
				l->tx_dropped = st.tx_dropped;
			}
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(rta, l);
			break;
		}
	}
	return 0;
}

/*
 * Reads interface ifindex of the current namespace, or of the namespace with
 * id nsid as the current one numbers it (nsid >= 0).
 */
int tg_link_get(int ifindex, int nsid, struct tg_link *l)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct link_req req = {
		.nh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			.nlmsg_type = RTM_GETLINK,
			.nlmsg_flags = NLM_F_REQUEST,
			.nlmsg_seq = 1 },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};
	/* A link message with stats and linkinfo fits easily; 32 KiB is generous. */
	char buf[32768] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	int fd, len, rc = -EPROTO;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	l->peer_nsid = -1;
	if (nsid >= 0)
		add_attr_s32(&req, IFLA_TARGET_NETNSID, nsid);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	len = (int)n;
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			rc = e->error ? e->error : -EPROTO;
			break;
		}
		if (nh->nlmsg_type == RTM_NEWLINK) {
			rc = parse_link(nh, l);
			break;
		}
	}
out:
	close(fd);
	return rc;
}

/*
 * The MAC of ip in dev's neighbour table, if the entry is complete. Read from
 * /proc/net/arp, which follows the reading thread's network namespace.
 */
int tg_neigh_mac(const char *dev, struct in_addr ip, uint8_t mac[TG_ETH_ALEN])
{
	char line[256], addr[64], hw[64], ifname[IF_NAMESIZE + 1];
	unsigned int type, flags;
	char want[INET_ADDRSTRLEN];
	int rc = -ENOENT;
	FILE *f;

	if (!inet_ntop(AF_INET, &ip, want, sizeof(want)))
		return -EINVAL;
	f = fopen("/proc/net/arp", "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return -ENOENT;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s 0x%x 0x%x %63s %*s %16s", addr, &type, &flags, hw,
			   ifname) != 5)
			continue;
		/* ATF_COM (0x2): the entry is resolved. */
		if (strcmp(addr, want) || strcmp(ifname, dev) || !(flags & 0x2))
			continue;
		if (!tg_parse_mac(hw, mac)) {
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}
