#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine, as root: installs the dependencies,
# builds sluice, starts sluiced on its defaults and shows a rule dropping real
# traffic between two network namespaces. sluiced and the demo namespaces stay
# up for your own sluicectl commands; `examples/quickstart.sh --cleanup` removes them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
CTL="$ROOT/build/ctl/sluicectl"
LOG=/var/log/sluiced.log
WEB=sluice-demo-web
CLIENT=sluice-demo-client

if [ "${1:-}" = --cleanup ]; then
	ip netns del "$WEB" 2>/dev/null || true
	ip netns del "$CLIENT" 2>/dev/null || true
	pid=$(pgrep -x sluiced || true)
	[ -n "$pid" ] && kill -TERM $pid && echo "stopped sluiced ($pid)"
	echo "demo removed"
	exit 0
fi

bash packaging/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j"$(nproc)"

if ! "$CTL" status >/dev/null 2>&1; then
	echo "starting sluiced (log: $LOG)"
	nohup "$ROOT/build/controld/sluiced" >>"$LOG" 2>&1 &
	for _ in $(seq 1 50); do "$CTL" status >/dev/null 2>&1 && break; sleep 0.1; done
fi
"$CTL" status >/dev/null

# The demo: a "web" namespace and a "client" namespace on a veth pair.
ip netns del "$WEB" 2>/dev/null || true
ip netns del "$CLIENT" 2>/dev/null || true
ip netns add "$WEB"
ip netns add "$CLIENT"
ip link add demo-web type veth peer name demo-client
ip link set demo-web netns "$WEB"
ip link set demo-client netns "$CLIENT"
ip -n "$WEB" addr add 10.123.0.2/24 dev demo-web
ip -n "$CLIENT" addr add 10.123.0.1/24 dev demo-client
for ns in "$WEB" "$CLIENT"; do ip -n "$ns" link set lo up; done
ip -n "$WEB" link set demo-web up
ip -n "$CLIENT" link set demo-client up

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
say "ip netns exec $CLIENT ping -c 3 10.123.0.2"
ip netns exec "$CLIENT" ping -c 3 -i 0.2 -W 1 10.123.0.2 || true

say "sluicectl add-drop --iface demo-web --netns $WEB --proto icmp --name demo-no-ping"
"$CTL" add-drop --iface demo-web --netns "$WEB" --proto icmp --name demo-no-ping

say "ip netns exec $CLIENT ping -c 5 10.123.0.2    # dropped by XDP now"
ip netns exec "$CLIENT" ping -c 5 -i 0.2 -W 1 10.123.0.2 || true

say "sluicectl list"
"$CTL" list
say "sluicectl status"
"$CTL" status

cat <<MSG

sluiced is still running on /run/sluice/sluiced.sock (log: $LOG), and the demo
namespaces $WEB and $CLIENT are still there. Try:
  $CTL --json list
  $CTL add-drop --iface demo-web --netns $WEB --proto tcp --dport 80
  $CTL del ID
  $CTL --help
Remove the demo and stop sluiced with: examples/quickstart.sh --cleanup
MSG
