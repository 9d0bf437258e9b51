#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Runs the real sluicectl binary against a fake one-shot sluiced.

The fake daemon listens on a UNIX socket in a fresh temporary directory,
accepts one connection, records the request line and answers with a canned
reply (or misbehaves on purpose). Every wait is bounded.

usage: test_cli.py PATH/TO/sluicectl EXPECTED_VERSION
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

SLUICECTL = None
VERSION = None
WAIT = 10  # seconds: upper bound for any single wait in this file

RULE_12 = {"id": 12, "kind": "drop", "name": None, "iface": "veth0", "netns": None,
           "hook": "xdp", "src": "10.0.0.0/8", "dst": None, "proto": "tcp", "sport": None,
           "dport": "80", "ether-type": None, "packets": 10, "bytes": 740}
RULE_3 = {"id": 3, "kind": "drop", "name": "no arp", "iface": "eth1", "netns": "blue",
          "hook": "tc-ingress", "src": None, "dst": None, "proto": None, "sport": None,
          "dport": None, "ether-type": "arp", "packets": 123456, "bytes": 7}


def ok(result, req_id=1):
    return json.dumps({"id": req_id, "ok": True, "result": result}) + "\n"


def refused(code, message, req_id=1):
    return json.dumps({"id": req_id, "ok": False,
                       "error": {"code": code, "message": message}}) + "\n"


class FakeDaemon:
    """One connection. behaviour: 'reply' (read a line, then answer),
    'reply-first' (answer and hang up without reading, like an EPERM),
    'close' (read a line, hang up), 'silent' (read a line, say nothing)."""

    def __init__(self, path, reply=None, behaviour="reply", accept_timeout=WAIT):
        self.path = path
        self.reply = reply.encode() if isinstance(reply, str) else reply
        self.behaviour = behaviour
        self.request = None  # raw bytes of the first line, newline included
        self.connected = False
        self.error = None
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(1)
        self.sock.settimeout(accept_timeout)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_line(self, conn):
        buf = b""
        while b"\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except socket.timeout:
            return
        self.connected = True
        conn.settimeout(WAIT)
        try:
            if self.behaviour == "reply-first":
                conn.sendall(self.reply)
                return
            self.request = self._read_line(conn)
            if self.behaviour == "reply":
                conn.sendall(self.reply)
            elif self.behaviour == "silent":
                self._stop.wait(WAIT)
        except OSError as e:  # the client may give up first; that is the point of some tests
            self.error = e
        finally:
            conn.close()

    def finish(self):
        self._stop.set()
        self.thread.join(WAIT)
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)
        if self.thread.is_alive():
            raise AssertionError("fake daemon thread did not finish")
        return self.request

    def request_json(self):
        self.finish()
        if self.request is None:
            raise AssertionError("no request received")
        return json.loads(self.request)


class CliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sluicectl-cli.")
        self.sock = os.path.join(self.dir, "sluiced.sock")
        self.env = {k: v for k, v in os.environ.items() if k != "SLUICE_SOCKET"}

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_ctl(self, *args, env=None, timeout=WAIT):
        return subprocess.run([SLUICECTL, *args], capture_output=True, text=True,
                              env=self.env if env is None else env, timeout=timeout)

    def daemon(self, reply=None, **kw):
        return FakeDaemon(self.sock, reply, **kw)

    def call(self, reply, *args, **kw):
        """Runs sluicectl --socket SOCK ARGS against a daemon answering reply."""
        d = self.daemon(reply, **kw)
        p = self.run_ctl("--socket", self.sock, *args)
        return p, d

    # --- the request on the wire -------------------------------------------------

    def test_add_drop_request_and_output(self):
        p, d = self.call(ok({"id": 12}), "add-drop", "--iface", "eth0", "--src=10.0.0.0/8",
                         "--proto", "tcp", "--dport", "80", "--ether-type=ipv4",
                         "--name", "web", "--hook", "tc-ingress", "--netns", "blue",
                         "--sport=1000-2000", "--dst", "10.1.0.0/16")
        d.finish()
        raw = d.request
        self.assertTrue(raw.endswith(b"\n"), raw)
        self.assertEqual(raw.count(b"\n"), 1, raw)
        self.assertEqual(json.loads(raw), {
            "id": 1, "cmd": "add-drop",
            "args": {"iface": "eth0", "src": "10.0.0.0/8", "proto": "tcp", "dport": "80",
                     "ether-type": "ipv4", "name": "web", "hook": "tc-ingress",
                     "netns": "blue", "sport": "1000-2000", "dst": "10.1.0.0/16"}})
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "added rule 12\n", ""))

    def test_add_drop_json(self):
        p, d = self.call(ok({"id": 12}), "--json", "add-drop", "--iface", "eth0",
                         "--proto", "icmp")
        self.assertEqual(d.request_json()["args"], {"iface": "eth0", "proto": "icmp"})
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout, '{"id": 12}\n')

    def test_del_sends_integer_id(self):
        p, d = self.call(ok({"id": 12}), "del", "12")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "del", "args": {"id": 12}})
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "deleted rule 12\n", ""))

    def test_hello(self):
        p, d = self.call(ok({"protocol": 1, "version": "0.1.0",
                             "commands": ["hello", "status", "add-drop", "list", "del", "stats"]}),
                         "hello")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "hello", "args": {}})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "sluiced 0.1.0, protocol 1\n"
                                   "commands: hello status add-drop list del stats\n")

    # --- output ------------------------------------------------------------------

    def test_list_table(self):
        p, d = self.call(ok({"rules": [RULE_12, RULE_3]}), "list", "--hook", "xdp")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "list", "args": {"hook": "xdp"}})
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout.splitlines(), [
            "ID  ACTION  IFACE  NETNS  HOOK        MATCH                              NAME    PACKETS  BYTES",
            "12  drop    veth0  -      xdp         src 10.0.0.0/8 proto tcp dport 80  -            10    740",
            " 3  drop    eth1   blue   tc-ingress  ether-type arp                     no arp   123456      7",
        ])

    def test_list_json_is_the_result(self):
        result = {"rules": [RULE_12, RULE_3]}
        p, d = self.call(ok(result), "--json", "list")
        d.finish()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count("\n"), 1)
        self.assertEqual(json.loads(p.stdout), result)

    def test_list_empty(self):
        p, d = self.call(ok({"rules": []}), "list")
        d.finish()
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "no rules\n", ""))

    def test_stats(self):
        p, d = self.call(ok({"rules": [{"id": 7, "kind": "drop", "packets": 1000,
                                        "bytes": 64000, "fallbacks": 0,
                                        "neigh_misses": 0, "nat_failures": 0}]}),
                         "stats", "7")
        self.assertEqual(d.request_json()["args"], {"id": 7})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "ID  KIND  PACKETS  BYTES  FALLBACKS  NEIGH-MISSES  NAT-FAILURES\n"
                                   " 7  drop     1000  64000          0             0             0\n")

    def test_stats_all(self):
        p, d = self.call(ok({"rules": []}), "stats")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "stats", "args": {}})
        self.assertEqual((p.returncode, p.stdout), (0, "no rules\n"))

    def test_add_rewrite(self):
        p, d = self.call(ok({"id": 14}), "add-rewrite", "--iface", "eth0", "--proto", "tcp",
                         "--dst", "198.51.100.80", "--dport", "80", "--to-dst", "10.0.1.5",
                         "--to-dport", "8080", "--redirect", "eth1", "--mode", "neigh")
        self.assertEqual(d.request_json()["cmd"], "add-rewrite")
        self.assertEqual(d.request_json()["args"],
                         {"iface": "eth0", "proto": "tcp", "dst": "198.51.100.80", "dport": "80",
                          "to-dst": "10.0.1.5", "to-dport": "8080", "redirect": "eth1",
                          "mode": "neigh"})
        self.assertEqual((p.returncode, p.stdout), (0, "added rule 14\n"))

    def test_conntrack_list(self):
        flows = {"count": 2, "capacity": 64, "flows": [
            {"family": 4, "proto": "tcp",
             "original": {"src": "10.0.0.2", "sport": 40000, "dst": "10.9.9.9", "dport": 80},
             "translated": {"src": "10.0.0.2", "sport": 40000, "dst": "10.0.1.1", "dport": 8080},
             "state": "tcp-established", "rule": 3, "expires": 21599, "packets": 6, "bytes": 420,
             "reply_packets": 5, "reply_bytes": 380},
            {"family": 6, "proto": "icmpv6",
             "original": {"src": "fd00::2", "sport": 7, "dst": "fd00::9", "dport": 0},
             "translated": {"src": "fd00::1", "sport": 9, "dst": "fd00::9", "dport": 0},
             "state": "icmp", "rule": 4, "expires": 30, "packets": 1, "bytes": 64,
             "reply_packets": 0, "reply_bytes": 0}]}
        p, d = self.call(ok(flows), "conntrack")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "conntrack", "args": {}})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.splitlines(), [
            "PROTO   ORIGINAL                      TRANSLATED                      "
            "STATE            RULE  EXPIRES  PACKETS  REPLIES",
            "tcp     10.0.0.2:40000 > 10.9.9.9:80  10.0.0.2:40000 > 10.0.1.1:8080  "
            "tcp-established     3   21599s        6        5",
            "icmpv6  fd00::2 > fd00::9 id 7        fd00::1 > fd00::9 id 9          "
            "icmp                4      30s        1        0"])

    def test_conntrack_flush(self):
        p, d = self.call(ok({"flushed": 1}), "conntrack", "flush", "--rule", "3")
        self.assertEqual(d.request_json(), {"id": 1, "cmd": "conntrack-flush",
                                            "args": {"rule": 3}})
        self.assertEqual((p.returncode, p.stdout), (0, "flushed 1 flow\n"))

    def test_status(self):
        result = {
            "version": "0.1.0", "pid": 1234, "uptime_s": 52, "rules": 2,
            "socket": "/run/sluice/sluiced.sock", "bpffs": "/sys/fs/bpf/sluice",
            "hooks": [{"iface": "veth0", "netns": None, "hook": "xdp", "ifindex": 5,
                       "prog_id": 81, "mode": "native", "rules": 2, "shapes": 1,
                       "attached": [
                           {"hook": "xdp", "name": "sluice_xdp", "prog_id": 81,
                            "priority": 20, "mode": "native", "sluice": True},
                           {"hook": "xdp", "name": "xdp_dispatcher", "prog_id": 80,
                            "priority": None, "mode": "native", "sluice": False}]}]}
        p, d = self.call(ok(result), "status", "--iface", "veth0")
        self.assertEqual(d.request_json()["args"], {"iface": "veth0"})
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertEqual(p.stdout,
                         "sluiced 0.1.0, pid 1234, up 52s, 2 rules\n"
                         "socket /run/sluice/sluiced.sock, bpffs /sys/fs/bpf/sluice\n"
                         "\n"
                         "IFACE  NETNS  HOOK  MODE    PROG  RULES  SHAPES\n"
                         "veth0  -      xdp   native    81      2       1\n"
                         "\n"
                         "attached to veth0:\n"
                         "  HOOK  MODE    PRIO  PROG  NAME            OWNER\n"
                         "  xdp   native    20    81  sluice_xdp      sluice\n"
                         "  xdp   native     -    80  xdp_dispatcher  other\n")

    def test_unexpected_result_shape(self):
        p, d = self.call(ok({"nope": 1}), "list")
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertIn("unexpected result from sluiced for 'list'", p.stderr)
        # --json does not interpret, so it still works
        p, d = self.call(ok({"nope": 1}), "--json", "list")
        d.finish()
        self.assertEqual((p.returncode, p.stdout), (0, '{"nope": 1}\n'))

    # --- refusals and failures: exit 1 -------------------------------------------

    def test_daemon_error(self):
        p, d = self.call(refused("EINVAL", "dport: 'x' is not a port"),
                         "add-drop", "--iface", "eth0", "--proto", "tcp", "--dport", "x")
        self.assertEqual(d.request_json()["args"]["dport"], "x")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertEqual(p.stderr, "sluicectl: EINVAL: dport: 'x' is not a port\n")

    def test_daemon_error_with_json(self):
        p, d = self.call(refused("ENOENT", "no rule 99"), "--json", "del", "99")
        d.finish()
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (1, "", "sluicectl: ENOENT: no rule 99\n"))

    def test_eperm_before_request_is_read(self):
        p, d = self.call(refused("EPERM", "uid 1000 is not allowed", req_id=None),
                         "list", behaviour="reply-first")
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sluicectl: EPERM: uid 1000 is not allowed\n")

    def test_unreachable_socket(self):
        p = self.run_ctl("--socket", self.sock, "list")
        self.assertEqual((p.returncode, p.stdout), (1, ""))
        self.assertEqual(p.stderr, "sluicectl: cannot connect to %s: No such file or "
                                   "directory (is sluiced running?)\n" % self.sock)

    def test_default_socket(self):
        default = "/run/sluice/sluiced.sock"
        if os.path.exists(default):
            self.skipTest("a sluiced is running on the default socket")
        p = self.run_ctl("list")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sluicectl: cannot connect to %s: No such file or "
                                   "directory (is sluiced running?)\n" % default)

    def test_timeout(self):
        d = self.daemon(behaviour="silent")
        t0 = time.monotonic()
        p = self.run_ctl("--socket", self.sock, "--timeout", "1", "list")
        elapsed = time.monotonic() - t0
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sluicectl: timed out waiting for a reply from sluiced\n")
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 5)

    def test_closed_without_reply(self):
        p, d = self.call(None, "list", behaviour="close")
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sluicectl: sluiced closed the connection without replying\n")

    def test_garbage_reply(self):
        p, d = self.call("this is not json\n", "list")
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertIn("sluicectl: invalid reply from sluiced", p.stderr)

    def test_reply_too_long(self):
        # 16 MiB + 1 without a newline: sluicectl must stop reading and fail.
        p, d = self.call(b"x" * (16 * 1024 * 1024 + 1), "list")
        d.finish()
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr, "sluicectl: reply from sluiced exceeds 16777216 bytes\n")

    # --- socket selection ----------------------------------------------------------

    def test_env_socket(self):
        d = self.daemon(ok({"rules": []}))
        env = dict(self.env, SLUICE_SOCKET=self.sock)
        p = self.run_ctl("list", env=env)
        self.assertEqual(d.request_json()["cmd"], "list")
        self.assertEqual((p.returncode, p.stdout), (0, "no rules\n"))

    def test_flag_beats_env(self):
        d = self.daemon(ok({"rules": []}))
        env = dict(self.env, SLUICE_SOCKET=os.path.join(self.dir, "wrong.sock"))
        p = self.run_ctl("--socket=" + self.sock, "list", env=env)
        d.finish()
        self.assertTrue(d.connected)
        self.assertEqual(p.returncode, 0, p.stderr)

        env = dict(self.env, SLUICE_SOCKET=self.sock)
        other = os.path.join(self.dir, "other.sock")
        p = self.run_ctl("--socket", other, "list", env=env)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot connect to %s:" % other, p.stderr)

    # --- usage errors: exit 2, nothing sent ----------------------------------------

    def assert_usage_error(self, args, message):
        d = self.daemon(ok({}), accept_timeout=0.3)
        p = self.run_ctl("--socket", self.sock, *args)
        d.finish()
        what = repr(args)[:200]
        self.assertFalse(d.connected, "a usage error reached the daemon: " + what)
        self.assertEqual(p.returncode, 2, "%s: %s" % (what, p.stderr))
        self.assertEqual(p.stdout, "")
        self.assertTrue(p.stderr.startswith("sluicectl: " + message + "\n"),
                        "%s: %r" % (what, p.stderr[:500]))
        self.assertIn("Usage: sluicectl", p.stderr)
        self.assertIn("--help", p.stderr)

    def test_usage_errors(self):
        cases = [
            (["frobnicate"], "unknown command 'frobnicate'"),
            ([], "no command given"),
            (["--bogus", "list"], "unknown option '--bogus'"),
            (["add-drop", "--src", "10.0.0.0/8"], "missing required option '--iface'"),
            (["add-drop", "--iface"], "option '--iface' needs a value"),
            (["add-drop", "--iface="], "option '--iface' needs a value"),
            (["add-drop", "--iface", "a", "--iface", "b"], "option '--iface' given twice"),
            (["add-drop", "--iface", "a", "--colour", "red"], "unknown option '--colour'"),
            (["list", "extra"], "unexpected argument 'extra'"),
            (["del"], "missing ID"),
            (["del", "abc"], "invalid ID 'abc': expected a positive integer"),
            (["del", "0"], "invalid ID '0': expected a positive integer"),
            (["del", "1", "2"], "unexpected argument '2'"),
            (["stats", "1x"], "invalid ID '1x': expected a positive integer"),
            (["--timeout", "0", "list"], "invalid SEC '0': expected a positive integer"),
            (["--timeout", "100000", "list"], "--timeout must be at most 86400 seconds"),
            (["help", "nope"], "unknown command 'nope'"),
            (["add-drop", "--iface", "eth0", "--name", "x" * 70000],
             "request of %d bytes exceeds the protocol's 65536 byte line limit"
             % (len(json.dumps({"id": 1, "cmd": "add-drop",
                                "args": {"iface": "eth0", "name": "x" * 70000}},
                               separators=(",", ":"))) + 1)),
        ]
        for args, message in cases:
            with self.subTest(args=args[:4]):
                self.assert_usage_error(args, message)

    def test_conntrack_usage_errors(self):
        self.assert_usage_error(["conntrack", "drop"], "unknown action 'drop': list or flush")
        self.assert_usage_error(["conntrack", "--rule", "3"], "--rule goes with 'flush'")

    def test_global_option_after_command_hint(self):
        p = self.run_ctl("--socket", self.sock, "list", "--json")
        self.assertEqual(p.returncode, 2)
        self.assertIn("(--json is a global option: write it before the command)", p.stderr)

    # --- help and version ------------------------------------------------------------

    def test_help_everywhere(self):
        commands = ["hello", "status", "add-drop", "list", "del", "stats"]
        variants = [["--help"], ["-h"], ["help"], ["help", "help"]]
        variants += [[c, "--help"] for c in commands] + [[c, "-h"] for c in commands]
        variants += [["help", c] for c in commands]
        variants += [["add-drop", "--iface", "--help"], ["del", "notanid", "--help"]]
        for args in variants:
            with self.subTest(args=args):
                p = self.run_ctl("--socket", self.sock, *args)
                self.assertEqual((p.returncode, p.stderr), (0, ""))
                self.assertTrue(p.stdout.startswith("Usage: sluicectl"), p.stdout)
        p = self.run_ctl("--help")
        for c in commands:
            self.assertIn("\n  %s " % c, p.stdout)
        for opt in ["--socket PATH", "--json", "--timeout SEC", "--version"]:
            self.assertIn(opt, p.stdout)
        p = self.run_ctl("add-drop", "--help")
        for opt in ["--iface IF", "--netns NS", "--hook HOOK", "--src CIDR", "--dst CIDR",
                    "--proto PROTO", "--sport PORT", "--dport PORT", "--ether-type TYPE",
                    "--name TEXT"]:
            self.assertIn(opt, p.stdout)
        self.assertIn("(required)", p.stdout)

    def test_version(self):
        p = self.run_ctl("--version")
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "sluicectl %s\n" % VERSION, ""))

    def test_write_error(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with open("/dev/full", "w") as full:
            p = subprocess.run([SLUICECTL, "--help"], stdout=full, stderr=subprocess.PIPE,
                               text=True, timeout=WAIT)
        self.assertEqual(p.returncode, 1)
        self.assertIn("cannot write output", p.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    SLUICECTL, VERSION = os.path.abspath(sys.argv[1]), sys.argv[2]
    unittest.main(argv=[sys.argv[0], "-v"])
