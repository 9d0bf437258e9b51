/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What a redirect needs to know about interfaces: index, MAC, kind and,
 * for a veth, where its peer is (rtnetlink RTM_GETLINK in the current
 * network namespace).
 */
#ifndef SLUICE_LINK_H
#define SLUICE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_err.h"

struct sl_link {
	int ifindex;
	char name[16];
	bool has_mac;
	uint8_t mac[6];
	char kind[16];    /* IFLA_INFO_KIND ("veth", "bridge", ...); "" for a plain device */
	int link_ifindex; /* IFLA_LINK: for a veth, its peer's index in the peer's namespace; 0 = none */
	int link_netnsid; /* IFLA_LINK_NETNSID: the peer's namespace as seen from here; -1 = this one */
};

/* -ENODEV when there is no such interface. */
int sl_link_by_name(const char *ifname, struct sl_link *out);
/* The interface ifindex of the namespace netnsid (-1: the current one). */
int sl_link_by_index(int ifindex, int netnsid, struct sl_link *out);

/* "aa:bb:cc:dd:ee:ff" (also with '-'); -EINVAL with a message. */
int sl_parse_mac(const char *text, uint8_t mac[6], struct sl_err *err);
void sl_format_mac(const uint8_t mac[6], char *buf, size_t len);

#endif
