# ctl_burst.py SOCKET --client K --iface IF [--netns NS] [--hook H] [--count N]
#              [--port-base P] [--ready FILE] [--go FILE] [--ids FILE] [--timeout S]
# One client of sluiced: connects, (optionally) creates the --ready file and
# waits until the --go file exists, so that many clients start together, then pipelines N add-drop requests (UDP, dport
# P + K*N + i, request ids "K-i") on its one connection and reads every reply.
# Prints "client K: ok=X failed=Y missing=Z"; writes the new rule ids to FILE
# (--ids), one a line. Exit status 0 only when all N replies came back, in
# order, with the right request ids, each ok with an integer rule id.
import argparse, json, os, socket, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("socket")
ap.add_argument("--client", type=int, required=True)
ap.add_argument("--iface", required=True)
ap.add_argument("--netns")
ap.add_argument("--hook", default="xdp")
ap.add_argument("--count", type=int, default=50)
ap.add_argument("--port-base", type=int, default=10000)
ap.add_argument("--ready")
ap.add_argument("--go")
ap.add_argument("--ids")
ap.add_argument("--timeout", type=float, default=30)
a = ap.parse_args()

deadline = time.monotonic() + a.timeout
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(a.timeout)
s.connect(a.socket)
if a.ready:
    open(a.ready, "w").close()
if a.go:
    while not os.path.exists(a.go):
        if time.monotonic() > deadline:
            sys.exit("client %d: no go signal" % a.client)
        time.sleep(0.005)

reqs = []
for i in range(a.count):
    args = {"iface": a.iface, "hook": a.hook, "proto": "udp",
            "dport": a.port_base + a.client * a.count + i, "name": "burst-%d-%d" % (a.client, i)}
    if a.netns:
        args["netns"] = a.netns
    reqs.append(json.dumps({"id": "%d-%d" % (a.client, i), "cmd": "add-drop", "args": args}) + "\n")
s.sendall("".join(reqs).encode())

ok = failed = 0
ids, problems = [], []
buf = b""
got = 0
while got < a.count:
    left = deadline - time.monotonic()
    if left <= 0:
        problems.append("timed out")
        break
    s.settimeout(left)
    try:
        chunk = s.recv(65536)
    except socket.timeout:
        problems.append("timed out")
        break
    if not chunk:
        problems.append("connection closed by sluiced")
        break
    buf += chunk
    while b"\n" in buf and got < a.count:
        line, buf = buf.split(b"\n", 1)
        want = "%d-%d" % (a.client, got)
        got += 1
        try:
            r = json.loads(line)
        except ValueError:
            failed += 1
            problems.append("not JSON: %r" % line[:200])
            continue
        if r.get("id") != want:
            failed += 1
            problems.append("reply id %r where %r was due" % (r.get("id"), want))
        elif r.get("ok") is True and isinstance(r.get("result", {}).get("id"), int):
            ok += 1
            ids.append(r["result"]["id"])
        else:
            failed += 1
            problems.append("%s: %s" % (want, json.dumps(r.get("error"))))
s.close()
if buf.strip():
    problems.append("extra data after the last reply: %r" % buf[:200])
missing = a.count - got
if a.ids:
    with open(a.ids, "w") as f:
        f.write("".join("%d\n" % i for i in ids))
print("client %d: ok=%d failed=%d missing=%d" % (a.client, ok, failed, missing))
for p in problems[:5]:
    print("client %d: %s" % (a.client, p))
sys.exit(0 if ok == a.count and not problems else 1)
