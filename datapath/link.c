// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "link.h"

#ifndef IFLA_TARGET_NETNSID
#define IFLA_TARGET_NETNSID 46
#endif

struct link_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[64];
};

static void add_attr(struct link_req *req, int type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->nh.nlmsg_len));

	a->rta_type = (unsigned short)type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	req->nh.nlmsg_len = NLMSG_ALIGN(req->nh.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

static void parse_linkinfo(struct rtattr *info, struct sl_link *out)
{
	int len = (int)RTA_PAYLOAD(info);

	for (struct rtattr *a = RTA_DATA(info); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_INFO_KIND)
			snprintf(out->kind, sizeof(out->kind), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
}

static int parse_link(struct nlmsghdr *nh, struct sl_link *out)
{
	struct ifinfomsg *ifi = NLMSG_DATA(nh);
	int len = (int)(nh->nlmsg_len - NLMSG_LENGTH(sizeof(*ifi)));

	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->link_netnsid = -1;
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		switch (a->rta_type) {
		case IFLA_IFNAME:
			snprintf(out->name, sizeof(out->name), "%.*s", (int)RTA_PAYLOAD(a),
				 (char *)RTA_DATA(a));
			break;
		case IFLA_ADDRESS:
			if (RTA_PAYLOAD(a) == 6) {
				memcpy(out->mac, RTA_DATA(a), 6);
				out->has_mac = true;
			}
			break;
		case IFLA_LINK:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&out->link_ifindex, RTA_DATA(a), 4);
			break;
		case IFLA_LINK_NETNSID:
			if (RTA_PAYLOAD(a) >= 4)
				memcpy(&out->link_netnsid, RTA_DATA(a), 4);
			break;
		case IFLA_LINKINFO:
			parse_linkinfo(a, out);
			break;
		}
	}
	return 0;
}

static int get_link(struct link_req *req, struct sl_link *out)
{
	int sock = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	char buf[8192];
	int rc = -EIO;
	ssize_t n;

	if (sock < 0)
		return -errno;
	if (send(sock, req, req->nh.nlmsg_len, 0) < 0) {
		rc = -errno;
		goto out;
	}
	n = recv(sock, buf, sizeof(buf), 0);
	if (n < 0) {
		rc = -errno;
		goto out;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(nh);

			rc = e->error == -ENODEV || e->error == -ENOENT ? -ENODEV : e->error;
			break;
		}
		if (nh->nlmsg_type == RTM_NEWLINK) {
			rc = parse_link(nh, out);
			break;
		}
	}
out:
	close(sock);
	return rc;
}

static void init_req(struct link_req *req)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req->nh.nlmsg_type = RTM_GETLINK;
	req->nh.nlmsg_flags = NLM_F_REQUEST;
	req->ifi.ifi_family = AF_UNSPEC;
}

int sl_link_by_name(const char *ifname, struct sl_link *out)
{
	struct link_req req;
	size_t len = strlen(ifname);

	if (!len || len >= IF_NAMESIZE)
		return -ENODEV;
	init_req(&req);
	add_attr(&req, IFLA_IFNAME, ifname, len + 1);
	return get_link(&req, out);
}

int sl_link_by_index(int ifindex, int netnsid, struct sl_link *out)
{
	struct link_req req;

	init_req(&req);
	req.ifi.ifi_index = ifindex;
	if (netnsid >= 0)
		add_attr(&req, IFLA_TARGET_NETNSID, &netnsid, sizeof(netnsid));
	return get_link(&req, out);
}

int sl_parse_mac(const char *text, uint8_t mac[6], struct sl_err *err)
{
	const char *p = text;
	char hex[3] = { 0 };

	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			goto bad;
		hex[0] = p[0];
		hex[1] = p[1];
		mac[i] = (uint8_t)strtoul(hex, NULL, 16);
		p += 2;
		if (i < 5) {
			if (*p != ':' && *p != '-')
				goto bad;
			p++;
		}
	}
	if (*p)
		goto bad;
	return 0;
bad:
	return sl_err_set(err, EINVAL, "'%s' is not a MAC address (aa:bb:cc:dd:ee:ff)", text);
}

void sl_format_mac(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}
