// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Human and --json output of daemon results. */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "render.h"
#include "table.h"

/* Renders result (JSON text) with fn; returns the output (malloc'ed) and *ret. */
static char *render(ctl_render_fn fn, const char *args_text, const char *result_text, int *ret)
{
	json_t *args = json_loads(args_text, 0, NULL);
	json_t *result = json_loads(result_text, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!args || !result) {
		fprintf(stderr, "bad test JSON: %s / %s\n", args_text, result_text);
		exit(1);
	}
	f = open_memstream(&text, &len);
	*ret = fn(f, args, result);
	fclose(f);
	json_decref(args);
	json_decref(result);
	return text;
}

#define CHECK_RENDER(fn, args, result, want)                    \
	do {                                                    \
		int r_;                                         \
		char *t_ = render(fn, args, result, &r_);       \
		CHECK_INT(r_, 0);                               \
		CHECK_STR(t_, want);                            \
		free(t_);                                       \
	} while (0)

#define CHECK_RENDER_FAILS(fn, args, result, code)              \
	do {                                                    \
		int r_;                                         \
		char *t_ = render(fn, args, result, &r_);       \
		CHECK_INT(r_, code);                            \
		free(t_);                                       \
	} while (0)

#define RULE_12 \
	"{\"id\": 12, \"kind\": \"drop\", \"name\": null, \"iface\": \"veth0\", \"netns\": null," \
	" \"hook\": \"xdp\", \"src\": \"10.0.0.0/8\", \"dst\": null, \"proto\": \"tcp\"," \
	" \"sport\": null, \"dport\": \"80\", \"ether-type\": null, \"packets\": 10, \"bytes\": 740}"
#define RULE_3 \
	"{\"id\": 3, \"kind\": \"drop\", \"name\": \"no arp\", \"iface\": \"eth1\", \"netns\": \"blue\"," \
	" \"hook\": \"tc-ingress\", \"src\": null, \"dst\": null, \"proto\": null," \
	" \"sport\": null, \"dport\": null, \"ether-type\": \"arp\", \"packets\": 123456, \"bytes\": 7}"

static void test_list(void)
{
	CHECK_RENDER(ctl_render_list, "{}", "{\"rules\": [" RULE_12 ", " RULE_3 "]}",
		     "ID  ACTION  IFACE  NETNS  HOOK        MATCH                              NAME    PACKETS  BYTES\n"
		     "12  drop    veth0  -      xdp         src 10.0.0.0/8 proto tcp dport 80  -            10    740\n"
		     " 3  drop    eth1   blue   tc-ingress  ether-type arp                     no arp   123456      7\n");
	CHECK_RENDER(ctl_render_list, "{}", "{\"rules\": []}", "no rules\n");
	CHECK_RENDER_FAILS(ctl_render_list, "{}", "{}", -EPROTO);
	CHECK_RENDER_FAILS(ctl_render_list, "{}", "{\"rules\": {}}", -EPROTO);

	/* Every match field, in reading order, whatever order the daemon used. */
	CHECK_RENDER(ctl_render_list, "{}",
		     "{\"rules\": [{\"ether-type\": \"ipv6\", \"dport\": \"1-2\", \"sport\": \"3\","
		     " \"proto\": 17, \"dst\": \"fd00::/8\", \"src\": \"fe80::1\", \"id\": 1,"
		     " \"kind\": \"drop\", \"iface\": \"x\", \"hook\": \"xdp\","
		     " \"packets\": 0, \"bytes\": 0}]}",
		     "ID  ACTION  IFACE  NETNS  HOOK  MATCH                                                                NAME  PACKETS  BYTES\n"
		     " 1  drop    x      -      xdp   src fe80::1 dst fd00::/8 proto 17 sport 3 dport 1-2 ether-type ipv6  -           0      0\n");

	/* A name cannot move columns or reach the terminal as escapes; UTF-8 is one column a character. */
	CHECK_RENDER(ctl_render_list, "{}",
		     "{\"rules\": [{\"id\": 1, \"kind\": \"drop\", \"iface\": \"eth0\", \"proto\": \"icmp\","
		     " \"name\": \"caf\\u00e9\", \"packets\": 1, \"bytes\": 2},"
		     " {\"id\": 2, \"kind\": \"drop\", \"iface\": \"eth0\", \"proto\": \"udp\","
		     " \"name\": \"a\\u001b[2J\\nb\", \"packets\": 3, \"bytes\": 4}]}",
		     "ID  ACTION  IFACE  NETNS  HOOK  MATCH       NAME     PACKETS  BYTES\n"
		     " 1  drop    eth0   -      -     proto icmp  caf\xc3\xa9           1      2\n"
		     " 2  drop    eth0   -      -     proto udp   a?[2J?b        3      4\n");
}

/* A redirect's action column says where packets go. */
static void test_list_redirect(void)
{
	CHECK_RENDER(ctl_render_list, "{}",
		     "{\"rules\": [{\"id\": 4, \"kind\": \"redirect\", \"iface\": \"m0\","
		     " \"hook\": \"tc-ingress\", \"dst\": \"10.2.0.0/24\", \"to\": \"m1\","
		     " \"mode\": \"peer\", \"packets\": 5, \"bytes\": 420},"
		     " {\"id\": 5, \"kind\": \"redirect\", \"iface\": \"m0\","
		     " \"hook\": \"tc-ingress\", \"dst\": \"10.3.0.0/16\", \"to\": null,"
		     " \"mode\": \"route\", \"packets\": 0, \"bytes\": 0}]}",
		     "ID  ACTION      IFACE  NETNS  HOOK        MATCH            NAME  PACKETS  BYTES\n"
		     " 4  peer to m1  m0     -      tc-ingress  dst 10.2.0.0/24  -           5    420\n"
		     " 5  route       m0     -      tc-ingress  dst 10.3.0.0/16  -           0      0\n");
}

static void test_stats(void)
{
	CHECK_RENDER(ctl_render_stats, "{}",
		     "{\"rules\": [{\"id\": 12, \"kind\": \"drop\", \"packets\": 10, \"bytes\": 740,"
		     " \"fallbacks\": 0, \"neigh_misses\": 0, \"nat_failures\": 0},"
		     " {\"id\": 100, \"kind\": \"redirect\", \"packets\": 0, \"bytes\": 18446744,"
		     " \"fallbacks\": 3, \"neigh_misses\": 1, \"nat_failures\": 0},"
		     " {\"id\": 101, \"kind\": \"rewrite\", \"packets\": 7, \"bytes\": 700,"
		     " \"fallbacks\": 0, \"neigh_misses\": 0, \"nat_failures\": 2}]}",
		     " ID  KIND      PACKETS     BYTES  FALLBACKS  NEIGH-MISSES  NAT-FAILURES\n"
		     " 12  drop           10       740          0             0             0\n"
		     "100  redirect        0  18446744          3             1             0\n"
		     "101  rewrite         7       700          0             0             2\n");
	CHECK_RENDER(ctl_render_stats, "{\"id\": 4}", "{\"rules\": []}", "no rules\n");
	CHECK_RENDER_FAILS(ctl_render_stats, "{}", "{\"rules\": null}", -EPROTO);
}

static void test_ids(void)
{
	CHECK_RENDER(ctl_render_added, "{\"iface\": \"eth0\"}", "{\"id\": 12}", "added rule 12\n");
	CHECK_RENDER_FAILS(ctl_render_added, "{}", "{}", -EPROTO);
	CHECK_RENDER_FAILS(ctl_render_added, "{}", "{\"id\": \"12\"}", -EPROTO);
	CHECK_RENDER(ctl_render_deleted, "{\"id\": 12}", "{\"id\": 12}", "deleted rule 12\n");
	/* A daemon that returns {} for del still gets a sensible line. */
	CHECK_RENDER(ctl_render_deleted, "{\"id\": 5}", "{}", "deleted rule 5\n");
}

static void test_apply(void)
{
	/* Consecutive ids collapse into runs, so 100,000 added rules make a short line. */
	CHECK_RENDER(ctl_render_apply, "{}",
		     "{\"added\": [1, 2, 3, 7, 9, 10], \"deleted\": [4], \"kept\": 2}",
		     "6 added, 1 deleted, 2 unchanged\n"
		     "added: 1-3 7 9-10\n"
		     "deleted: 4\n");
	CHECK_RENDER(ctl_render_apply, "{}", "{\"added\": [], \"deleted\": [], \"kept\": 5}",
		     "0 added, 0 deleted, 5 unchanged\n");
	CHECK_RENDER_FAILS(ctl_render_apply, "{}", "{\"added\": []}", -EPROTO);
}

static void test_hello(void)
{
	CHECK_RENDER(ctl_render_hello, "{}",
		     "{\"protocol\": 1, \"version\": \"0.1.0\","
		     " \"commands\": [\"hello\", \"status\", \"add-drop\"]}",
		     "sluiced 0.1.0, protocol 1\n"
		     "commands: hello status add-drop\n");
}

#define STATUS_HEAD \
	"{\"version\": \"0.1.0\", \"pid\": 1234, \"uptime_s\": 3725, \"rules\": 3," \
	" \"socket\": \"/run/sluice/sluiced.sock\", \"bpffs\": \"/sys/fs/bpf/sluice\","
#define ATTACHED_VETH0 \
	"\"attached\": [" \
	"{\"hook\": \"xdp\", \"name\": \"sluice_xdp\", \"prog_id\": 81, \"priority\": 20, \"mode\": \"native\", \"sluice\": true}," \
	"{\"hook\": \"xdp\", \"name\": \"xdp_dispatcher\", \"prog_id\": 80, \"priority\": null, \"mode\": \"native\", \"sluice\": false}," \
	"{\"hook\": \"tc-ingress\", \"name\": \"sluice_tc\", \"prog_id\": 90, \"priority\": 1, \"sluice\": true}]"

static void test_status(void)
{
	CHECK_RENDER(ctl_render_status, "{}",
		     STATUS_HEAD " \"hooks\": ["
		     "{\"iface\": \"veth0\", \"netns\": null, \"hook\": \"xdp\", \"ifindex\": 5,"
		     " \"prog_id\": 81, \"mode\": \"native\", \"rules\": 2, \"shapes\": 1, " ATTACHED_VETH0 "},"
		     "{\"iface\": \"eth1\", \"netns\": \"blue\", \"hook\": \"tc-egress\", \"ifindex\": 2,"
		     " \"prog_id\": 1007, \"mode\": null, \"rules\": 1, \"shapes\": 1, \"attached\": ["
		     "{\"hook\": \"tc-egress\", \"name\": \"sluice_tc\", \"prog_id\": 1007, \"priority\": 1, \"sluice\": true}]},"
		     "{\"iface\": \"veth0\", \"netns\": null, \"hook\": \"tc-ingress\", \"ifindex\": 5,"
		     " \"prog_id\": 90, \"mode\": null, \"rules\": 0, \"shapes\": 0, " ATTACHED_VETH0 "}"
		     "]}",
		     "sluiced 0.1.0, pid 1234, up 1h 02m, 3 rules\n"
		     "socket /run/sluice/sluiced.sock, bpffs /sys/fs/bpf/sluice\n"
		     "\n"
		     "IFACE  NETNS  HOOK        MODE    PROG  RULES  SHAPES\n"
		     "veth0  -      xdp         native    81      2       1\n"
		     "eth1   blue   tc-egress   -       1007      1       1\n"
		     "veth0  -      tc-ingress  -         90      0       0\n"
		     "\n"
		     "attached to veth0:\n"
		     "  HOOK        MODE    PRIO  PROG  NAME            OWNER\n"
		     "  xdp         native    20    81  sluice_xdp      sluice\n"
		     "  xdp         native     -    80  xdp_dispatcher  other\n"
		     "  tc-ingress  -          1    90  sluice_tc       sluice\n"
		     "\n"
		     "attached to eth1 in netns blue:\n"
		     "  HOOK       MODE  PRIO  PROG  NAME       OWNER\n"
		     "  tc-egress  -        1  1007  sluice_tc  sluice\n");

	/* status --iface on an interface sluice does not use (the daemon's "interface"). */
	CHECK_RENDER(ctl_render_status, "{\"iface\": \"eth9\"}",
		     STATUS_HEAD " \"hooks\": [], \"interface\": {\"iface\": \"eth9\", \"netns\": null,"
		     " \"attached\": [{\"hook\": \"xdp\", \"name\": \"other_fw\", \"prog_id\": 5,"
		     " \"priority\": null, \"mode\": \"skb\", \"sluice\": false}]}}",
		     "sluiced 0.1.0, pid 1234, up 1h 02m, 3 rules\n"
		     "socket /run/sluice/sluiced.sock, bpffs /sys/fs/bpf/sluice\n"
		     "no hooks in use\n"
		     "\n"
		     "attached to eth9:\n"
		     "  HOOK  MODE  PRIO  PROG  NAME      OWNER\n"
		     "  xdp   skb      -     5  other_fw  other\n");
	CHECK_RENDER(ctl_render_status, "{\"iface\": \"eth9\", \"netns\": \"red\"}",
		     "{\"hooks\": [], \"interface\": {\"iface\": \"eth9\", \"netns\": \"red\", \"attached\": []}}",
		     "sluiced -, pid -, up -, - rules\n"
		     "no hooks in use\n"
		     "\n"
		     "attached to eth9 in netns red: nothing\n");
	/* status --iface on one sluice uses: one section, merged, not two. */
	CHECK_RENDER(ctl_render_status, "{\"iface\": \"veth0\"}",
		     "{\"hooks\": [{\"iface\": \"veth0\", \"netns\": null, \"hook\": \"xdp\", \"prog_id\": 81,"
		     " \"mode\": \"native\", \"rules\": 2, \"shapes\": 1, \"attached\": \"cannot open netns\"}],"
		     " \"interface\": {\"iface\": \"veth0\", \"netns\": null, " ATTACHED_VETH0 "}}",
		     "sluiced -, pid -, up -, - rules\n"
		     "\n"
		     "IFACE  NETNS  HOOK  MODE    PROG  RULES  SHAPES\n"
		     "veth0  -      xdp   native    81      2       1\n"
		     "\n"
		     "attached to veth0:\n"
		     "  HOOK        MODE    PRIO  PROG  NAME            OWNER\n"
		     "  xdp         native    20    81  sluice_xdp      sluice\n"
		     "  xdp         native     -    80  xdp_dispatcher  other\n"
		     "  tc-ingress  -          1    90  sluice_tc       sluice\n");
	/* The daemon could not look: say so rather than show nothing. */
	CHECK_RENDER(ctl_render_status, "{}",
		     "{\"hooks\": [{\"iface\": \"veth0\", \"netns\": \"gone\", \"hook\": \"xdp\", \"prog_id\": 81,"
		     " \"mode\": \"native\", \"rules\": 2, \"shapes\": 1, \"attached\": \"no such netns\\n\"}]}",
		     "sluiced -, pid -, up -, - rules\n"
		     "\n"
		     "IFACE  NETNS  HOOK  MODE    PROG  RULES  SHAPES\n"
		     "veth0  gone   xdp   native    81      2       1\n"
		     "\n"
		     "attached to veth0 in netns gone: cannot tell (no such netns?)\n");

	CHECK_RENDER(ctl_render_status, "{}",
		     "{\"version\": \"0.1.0\", \"pid\": 7, \"uptime_s\": 5, \"rules\": 1, \"hooks\": []}",
		     "sluiced 0.1.0, pid 7, up 5s, 1 rule\n"
		     "no hooks in use\n");
	/* Missing members degrade to "-" rather than failing. */
	CHECK_RENDER(ctl_render_status, "{}", "{}", "sluiced -, pid -, up -, - rules\nno hooks in use\n");
}

static void test_json(void)
{
	json_t *v = json_loads("{\"id\": 12}", 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_INT(ctl_render_json(f, v), 0);
	fclose(f);
	CHECK_STR(text, "{\"id\": 12}\n");
	free(text);
	json_decref(v);

	v = json_loads(STATUS_HEAD " \"hooks\": [{\"iface\": \"a\", " ATTACHED_VETH0 "}]}", 0, NULL);
	text = NULL;
	f = open_memstream(&text, &len);
	CHECK_INT(ctl_render_json(f, v), 0);
	fclose(f);
	/* One line, and the same document. */
	CHECK(text && strchr(text, '\n') == text + strlen(text) - 1);
	if (text) {
		json_t *back = json_loads(text, 0, NULL);

		CHECK(json_equal(back, v));
		json_decref(back);
	}
	free(text);
	json_decref(v);
}

static void test_helpers(void)
{
	char buf[64], small[8];
	json_t *v;

	CHECK_STR(ctl_json_text(NULL, buf, sizeof(buf)), "-");
	v = json_null();
	CHECK_STR(ctl_json_text(v, buf, sizeof(buf)), "-");
	v = json_integer(-5);
	CHECK_STR(ctl_json_text(v, buf, sizeof(buf)), "-5");
	json_decref(v);
	v = json_string("tc-ingress");
	CHECK_STR(ctl_json_text(v, buf, sizeof(buf)), "tc-ingress");
	json_decref(v);
	CHECK_STR(ctl_json_text(json_true(), buf, sizeof(buf)), "yes");
	v = json_loads("[1,2,3,4,5,6,7,8,9]", 0, NULL);
	CHECK_STR(ctl_json_text(v, small, sizeof(small)), "[1,2,3,");
	json_decref(v);

	v = json_loads("{\"src\": null, \"kind\": \"drop\"}", 0, NULL);
	ctl_format_match(v, buf, sizeof(buf));
	CHECK_STR(buf, "-");
	json_decref(v);
	v = json_loads("{\"src\": \"10.0.0.0/8\", \"proto\": \"tcp\", \"dport\": \"80\"}", 0, NULL);
	ctl_format_match(v, small, sizeof(small));
	CHECK_INT(strlen(small), 7); /* truncated, terminated */
	ctl_format_match(v, buf, sizeof(buf));
	CHECK_STR(buf, "src 10.0.0.0/8 proto tcp dport 80");
	json_decref(v);

	ctl_format_duration(0, buf, sizeof(buf));
	CHECK_STR(buf, "0s");
	ctl_format_duration(59, buf, sizeof(buf));
	CHECK_STR(buf, "59s");
	ctl_format_duration(65, buf, sizeof(buf));
	CHECK_STR(buf, "1m 05s");
	ctl_format_duration(3600 * 5 + 60 * 7 + 9, buf, sizeof(buf));
	CHECK_STR(buf, "5h 07m");
	ctl_format_duration(86400 * 2 + 3600 * 5, buf, sizeof(buf));
	CHECK_STR(buf, "2d 5h");
}

static void test_table(void)
{
	static const char *const headers[] = { "A", "LONGER", "N" };
	const char *row1[] = { "xyz", NULL, "5" };
	const char *row2[] = { "", "b", "12345" };
	struct ctl_table t;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	ctl_table_init(&t, headers, 3, 1u << 2);
	CHECK_INT(ctl_table_add(&t, row1), 0);
	CHECK_INT(ctl_table_add(&t, row2), 0);
	f = open_memstream(&text, &len);
	ctl_table_print(&t, f, "> ");
	fclose(f);
	CHECK_STR(text,
		  "> A    LONGER      N\n"
		  "> xyz  -           5\n"
		  "> -    b       12345\n");
	free(text);
	ctl_table_free(&t);

	/* Many rows: the cell array grows. */
	ctl_table_init(&t, headers, 3, 0);
	for (int i = 0; i < 100; i++)
		CHECK_INT(ctl_table_add(&t, row1), 0);
	CHECK_INT(t.nrows, 100);
	ctl_table_free(&t);
}

int main(void)
{
	test_list();
	test_list_redirect();
	test_stats();
	test_ids();
	test_apply();
	test_hello();
	test_status();
	test_json();
	test_helpers();
	test_table();
	return check_done("test_render");
}
