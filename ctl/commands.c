// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "apply.h"
#include "commands.h"

/* Options shared by several commands; a command composes them with its own. */
#define OPT_STR(name, flags, meta, help) { name, 0, CTL_OPT_STRING, flags, meta, help }
#define OPT_IFACE(flags, help) OPT_STR("iface", flags, "IF", help)
#define OPT_NETNS(help) OPT_STR("netns", 0, "NS", help)
#define OPT_HOOK(help) OPT_STR("hook", 0, "HOOK", help)
#define OPT_RULE_ID(flags, help) { "id", 0, CTL_OPT_INT, (flags) | CTL_OPT_POSITIONAL, "ID", help }
#define OPT_NAME OPT_STR("name", 0, "TEXT", "label for people, up to 64 bytes")
#define OPT_MATCH_FIELDS \
	OPT_STR("src", 0, "CIDR", "source IPv4/IPv6 address or prefix (10.0.0.0/8, fd00::/64)"), \
	OPT_STR("dst", 0, "CIDR", "destination IPv4/IPv6 address or prefix"), \
	OPT_STR("proto", 0, "PROTO", "tcp, udp, icmp, icmpv6, sctp, udplite or 0-255"), \
	OPT_STR("sport", 0, "PORT", "source port P or range P-P (needs --proto with ports)"), \
	OPT_STR("dport", 0, "PORT", "destination port P or range P-P"), \
	OPT_STR("ether-type", 0, "TYPE", "arp, ipv4, ipv6 or 0xHHHH (inside VLAN tags)")

#define NETNS_HELP "namespace of IF: NAME (in /run/netns), pid:PID or a path;\n" \
		   "default: sluiced's own"

static const struct ctl_opt no_opts[] = {
	CTL_OPT_END,
};

static const struct ctl_opt status_opts[] = {
	OPT_IFACE(0, "also show every program attached to this interface"),
	OPT_NETNS(NETNS_HELP),
	CTL_OPT_END,
};

static const struct ctl_opt add_drop_opts[] = {
	OPT_IFACE(CTL_OPT_REQUIRED, "interface to filter on"),
	OPT_NETNS(NETNS_HELP),
	OPT_HOOK("xdp (default), tc-ingress or tc-egress"),
	OPT_MATCH_FIELDS,
	OPT_NAME,
	CTL_OPT_END,
};

static const struct ctl_opt add_redirect_opts[] = {
	OPT_IFACE(CTL_OPT_REQUIRED, "interface whose packets are steered"),
	OPT_NETNS(NETNS_HELP),
	OPT_HOOK("tc-ingress (default) or tc-egress"),
	OPT_MATCH_FIELDS,
	OPT_STR("to", 0, "IF2", "target interface, in the same namespace as IF\n"
		"(optional for --mode route)"),
	OPT_STR("mode", CTL_OPT_REQUIRED, "MODE",
		"egress: transmit out of IF2; ingress: receive on IF2;\n"
		"neigh: out of IF2, MACs from the neighbour table;\n"
		"peer: into IF2's veth peer in its namespace (tc-ingress);\n"
		"route: where the routing table says (then neigh or egress)"),
	OPT_STR("dst-mac", 0, "MAC", "destination MAC to write (default for egress/peer\n"
		"to a veth: the peer's; for ingress: IF2's)"),
	OPT_STR("src-mac", 0, "MAC", "source MAC to write (default for egress/peer to a\n"
		"veth: IF2's)"),
	{ "priority", 0, CTL_OPT_UINT, 0, "N",
	  "0-65535, lower wins when several redirects match;\n"
	  "default 100, ties go to the more specific match" },
	OPT_NAME,
	CTL_OPT_END,
};

static const struct ctl_opt add_rewrite_opts[] = {
	OPT_IFACE(CTL_OPT_REQUIRED, "interface whose packets are translated"),
	OPT_NETNS(NETNS_HELP),
	OPT_HOOK("tc-ingress (default) or tc-egress"),
	OPT_MATCH_FIELDS,
	OPT_STR("to-src", 0, "IP", "new source address (SNAT)"),
	OPT_STR("to-sport", 0, "PORT", "new source port P, or range P-P to pick from"),
	OPT_STR("to-dst", 0, "IP", "new destination address (DNAT)"),
	OPT_STR("to-dport", 0, "PORT", "new destination port"),
	OPT_STR("redirect", 0, "IF2", "then send the packet to IF2 (same namespace as IF)"),
	OPT_STR("mode", 0, "MODE", "how to reach IF2: egress, ingress, neigh, peer, route\n"
		"(see add-redirect)"),
	OPT_STR("dst-mac", 0, "MAC", "destination MAC to write when redirecting"),
	OPT_STR("src-mac", 0, "MAC", "source MAC to write when redirecting"),
	{ "priority", 0, CTL_OPT_UINT, 0, "N",
	  "0-65535, lower wins among matching redirect and\n"
	  "rewrite rules; default 100" },
	OPT_NAME,
	CTL_OPT_END,
};

static const struct ctl_opt conntrack_opts[] = {
	OPT_STR("action", CTL_OPT_POSITIONAL, "list|flush", "list (default) or flush the flows"),
	{ "rule", 0, CTL_OPT_INT, 0, "ID", "flush: only the flows of this rule" },
	CTL_OPT_END,
};

/* "conntrack [list]" and "conntrack flush" are two protocol commands. */
static int conntrack_wire(json_t *args, const char **name, struct ctl_err *err)
{
	const char *action = json_string_value(json_object_get(args, "action"));

	if (!action || !strcmp(action, "list")) {
		if (json_object_get(args, "rule"))
			return ctl_err_set(err, EINVAL, "--rule goes with 'flush'");
		*name = "conntrack";
	} else if (!strcmp(action, "flush")) {
		*name = "conntrack-flush";
	} else {
		return ctl_err_set(err, EINVAL, "unknown action '%s': list or flush", action);
	}
	json_object_del(args, "action");
	return 0;
}

static const struct ctl_opt apply_opts[] = {
	{ "file", 'f', CTL_OPT_STRING, CTL_OPT_REQUIRED, "FILE",
	  "the rule set, as `sluicectl export` prints it;\n- reads standard input" },
	{ "dry-run", 0, CTL_OPT_FLAG, 0, NULL, "print what would change, change nothing" },
	CTL_OPT_END,
};

static const struct ctl_opt list_opts[] = {
	OPT_IFACE(0, "only rules on this interface"),
	OPT_NETNS("only rules in this namespace (NAME, pid:PID or a path)"),
	OPT_HOOK("only rules on this hook: xdp, tc-ingress or tc-egress"),
	CTL_OPT_END,
};

static const struct ctl_opt del_opts[] = {
	OPT_RULE_ID(CTL_OPT_REQUIRED, "the rule to delete, as shown by 'list'"),
	CTL_OPT_END,
};

static const struct ctl_opt stats_opts[] = {
	OPT_RULE_ID(0, "only this rule; default: every rule"),
	CTL_OPT_END,
};

const struct ctl_cmd ctl_commands[] = {
	{
		.name = "hello",
		.summary = "show the daemon's version, protocol and commands",
		.opts = no_opts,
		.render = ctl_render_hello,
	},
	{
		.name = "status",
		.summary = "show the daemon and the hooks it manages",
		.description =
			"Without options, shows the daemon and every hook it manages, with\n"
			"the programs attached next to sluice's on each interface. With\n"
			"--iface, also what is attached to that interface.",
		.opts = status_opts,
		.render = ctl_render_status,
	},
	{
		.name = "add-drop",
		.summary = "add a rule that drops matching packets",
		.description =
			"A packet is dropped when it matches every field given. At least one\n"
			"of --src, --dst, --proto, --sport, --dport, --ether-type is needed.\n"
			"\n"
			"Examples:\n"
			"  sluicectl add-drop --iface eth0 --src 192.0.2.0/24 --proto tcp --dport 22\n"
			"  sluicectl add-drop --iface eth0 --hook tc-egress --proto udp --dport 6881-6889\n"
			"  sluicectl add-drop --iface veth0 --netns blue --ether-type arp --name 'no arp'",
		.opts = add_drop_opts,
		.render = ctl_render_added,
	},
	{
		.name = "add-redirect",
		.summary = "add a rule that steers matching packets to another interface",
		.description =
			"Runs on tc (clsact) hooks. Drop rules on the same hook are applied\n"
			"first: a packet that a drop rule matches is dropped. When several\n"
			"redirect rules match, the lowest --priority wins, then the more\n"
			"specific match (longer prefixes, ports, protocol), then the older rule.\n"
			"\n"
			"Examples:\n"
			"  sluicectl add-redirect --iface veth-a --dst 10.1.0.0/24 --to veth-b --mode peer\n"
			"  sluicectl add-redirect --iface eth0 --proto udp --dport 53 --to eth1 --mode neigh\n"
			"  sluicectl add-redirect --iface eth0 --dst 10.2.0.0/16 --mode route",
		.opts = add_redirect_opts,
		.render = ctl_render_added,
	},
	{
		.name = "add-rewrite",
		.summary = "add a rule that translates addresses and ports (NAT)",
		.description =
			"Stateful: the first packet of a flow that matches creates a conntrack\n"
			"entry, and the rest of the flow, its replies, the ICMP errors about it\n"
			"and its IP fragments are translated from that entry. Replies are\n"
			"restored on the ingress of the --redirect target, or else on IF's\n"
			"other direction (tc-egress for a tc-ingress rule and the reverse).\n"
			"Without --proto, TCP, UDP and ICMP echo are translated; other\n"
			"protocols pass untouched. Order on a hook: drop rules, then flows in\n"
			"conntrack, then redirect and rewrite rules by --priority.\n"
			"\n"
			"Examples:\n"
			"  sluicectl add-rewrite --iface eth0 --proto tcp --dst 198.51.100.80 --dport 80 \\\n"
			"      --to-dst 10.0.1.5 --to-dport 8080\n"
			"  sluicectl add-rewrite --iface eth1 --hook tc-egress --src 10.0.0.0/24 \\\n"
			"      --to-src 192.0.2.1\n"
			"  sluicectl add-rewrite --netns pid:4242 --iface lo --proto udp --dst 127.0.0.11 \\\n"
			"      --dport 53 --to-src 10.0.0.2 --to-dst 10.0.0.53 --redirect eth0 --mode neigh",
		.opts = add_rewrite_opts,
		.render = ctl_render_added,
	},
	{
		.name = "conntrack",
		.summary = "list or flush the flows rewrite rules translate",
		.description =
			"'conntrack' lists live translated flows: the original tuple, what it\n"
			"became, state, rule, seconds until it expires, packets both ways.\n"
			"'conntrack flush' forgets them (all, or one rule's with --rule);\n"
			"their next packets are matched against the rules again.",
		.opts = conntrack_opts,
		.render = ctl_render_conntrack,
		.wire = conntrack_wire,
	},
	{
		.name = "list",
		.summary = "list rules with their counters",
		.opts = list_opts,
		.render = ctl_render_list,
	},
	{
		.name = "del",
		.summary = "delete a rule",
		.description =
			"Deleting the last rule of a hook detaches sluice from that hook.",
		.opts = del_opts,
		.render = ctl_render_deleted,
	},
	{
		.name = "stats",
		.summary = "show packet and byte counters of rules",
		.opts = stats_opts,
		.render = ctl_render_stats,
	},
	{
		.name = "export",
		.summary = "print the whole rule set as one JSON document",
		.description =
			"The document is what 'apply -f' takes: keep it in config management\n"
			"(Ansible, Salt, a ConfigMap) and apply it on every gateway.",
		.opts = no_opts,
		.render = ctl_render_export,
	},
	{
		.name = "apply",
		.summary = "make the live rule set equal to a document",
		.description =
			"Rules equal in every field to a live rule are kept, with their ids and\n"
			"counters; live rules not in the document are deleted; the others are\n"
			"added. All or nothing: the whole document is validated first, and a\n"
			"failure puts everything back. Applying the same document twice changes\n"
			"nothing. Rules on interfaces or namespaces that do not exist yet are\n"
			"kept detached and attached when they appear. Ids in the document are\n"
			"ignored.",
		.opts = apply_opts,
		.render = ctl_render_apply,
		.send = ctl_apply_send,
	},
	{
		.name = "flush",
		.summary = "delete every rule and remove sluice from every interface",
		.description =
			"Detaches every program, removes its pins and forgets translated flows.\n"
			"Stopping sluiced leaves the datapath in place instead.",
		.opts = no_opts,
		.render = ctl_render_flush,
	},
	{ 0 },
};

const struct ctl_opt ctl_global_opts[] = {
	OPT_STR("socket", 0, "PATH",
		"sluiced's socket; default: $" CTL_SOCKET_ENV ",\nelse " CTL_DEFAULT_SOCKET),
	{ "json", 0, CTL_OPT_FLAG, 0, NULL, "print the daemon's result as one line of JSON" },
	{ "timeout", 0, CTL_OPT_INT, 0, "SEC",
	  "give up after SEC seconds without a reply (default: 30)" },
	{ "version", 0, CTL_OPT_FLAG, 0, NULL, "print sluicectl's version" },
	CTL_OPT_END,
};

const struct ctl_cmd *ctl_cmd_find(const char *name)
{
	const struct ctl_cmd *cmd;

	for (cmd = ctl_commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

void ctl_print_usage(FILE *out)
{
	fputs("Usage: sluicectl [--socket PATH] [--json] [--timeout SEC] COMMAND [OPTIONS]\n"
	      "       sluicectl help [COMMAND]\n"
	      "       sluicectl --version\n", out);
}

void ctl_print_help(FILE *out)
{
	const struct ctl_cmd *cmd;
	int width = 0;

	ctl_print_usage(out);
	fputs("\nControls sluiced, the sluice eBPF datapath daemon.\n\nCommands:\n", out);
	for (cmd = ctl_commands; cmd->name; cmd++)
		if ((int)strlen(cmd->name) > width)
			width = (int)strlen(cmd->name);
	for (cmd = ctl_commands; cmd->name; cmd++)
		fprintf(out, "  %-*s  %s\n", width, cmd->name, cmd->summary);
	fprintf(out, "  %-*s  %s\n", width, "help", "show help for sluicectl or a command");
	fputs("\nOptions:\n", out);
	ctl_opts_print_help(out, ctl_global_opts);
	fputs("\nRun 'sluicectl COMMAND --help' for a command's options.\n"
	      "Exit status: 0 done, 1 the daemon refused or could not be reached,\n"
	      "2 usage error.\n", out);
}

void ctl_cmd_print_usage(FILE *out, const struct ctl_cmd *cmd)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "Usage: sluicectl %s", cmd->name);
	ctl_opts_print_synopsis(out, prefix, cmd->opts);
}

void ctl_cmd_print_help(FILE *out, const struct ctl_cmd *cmd)
{
	ctl_cmd_print_usage(out, cmd);
	fprintf(out, "\n%c%s.\n", toupper((unsigned char)cmd->summary[0]), cmd->summary + 1);
	if (cmd->description)
		fprintf(out, "\n%s\n", cmd->description);
	fputs("\nOptions:\n", out);
	ctl_opts_print_help(out, cmd->opts);
}
