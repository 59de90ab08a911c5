#!/usr/bin/env bash
# The mip6 lab on real sockets: network namespaces for a home agent, a
# router, a correspondent and a mobile node (home link 2001:db8:1::/64,
# access networks 2001:db8:a::/64 and 2001:db8:b::/64, correspondent on
# 2001:db8:c::/64), the mip6 daemons in them, and the scenario: bootstrap,
# ping the home address from the correspondent, move to B, ping, stop the
# mobile node (it de-registers). Everything is removed at exit.
#
#   usage: sudo bash scripts/netns-lab.sh [path/to/mip6]
#   environment: KEEP=1 keeps the work directory (configs, logs, pcap)
#
# (Daemons start with `ip netns exec` directly, which execs them, so that
# their PIDs are theirs and SIGTERM reaches them.)
# Needs root, iproute2, ping and tcpdump (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-}
P=m6l$$
WORK=$(mktemp -d /tmp/mip6-lab.XXXXXX)
if [ -z "$BIN" ]; then
	BIN=$WORK/mip6
	go build -o "$BIN" ./cmd/mip6
fi
PIDS=()

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	sleep 0.5
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	for ns in ha rt cn mn; do ip netns del "$P$ns" 2>/dev/null || true; done
	if [ -n "${KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*"; }
nsx() { local ns=$1; shift; ip netns exec "$P$ns" "$@"; }

# wait_for DESCRIPTION COMMAND...: up to 20 s, then fail with the logs.
wait_for() {
	local what=$1; shift
	for _ in $(seq 1 200); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "lab: timed out waiting for $what" >&2
	tail -n 30 "$WORK"/*.log >&2 || true
	exit 1
}

say "namespaces and links"
for ns in ha rt cn mn; do
	ip netns add "$P$ns"
	nsx "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0
	nsx "$ns" ip link set lo up
done
nsx rt sysctl -qw net.ipv6.conf.all.forwarding=1
link() { # link NS_A IF_A NS_B IF_B
	ip link add "$2" netns "$P$1" type veth peer name "$4" netns "$P$3"
	nsx "$1" ip link set "$2" up
	nsx "$3" ip link set "$4" up
}
link ha ha0 rt rhome
link cn c0 rt rc
link mn a0 rt ra
link mn b0 rt rb
nsx rt ip -6 addr add 2001:db8:1::1/64 dev rhome nodad
nsx rt ip -6 addr add 2001:db8:c::1/64 dev rc nodad
nsx rt ip -6 addr add 2001:db8:a::1/64 dev ra nodad
nsx rt ip -6 addr add 2001:db8:b::1/64 dev rb nodad
nsx ha ip -6 addr add 2001:db8:1::2/64 dev ha0 nodad
nsx ha ip -6 route add default via 2001:db8:1::1
nsx cn ip -6 addr add 2001:db8:c::100/64 dev c0 nodad
nsx cn ip -6 route add default via 2001:db8:c::1
nsx mn ip -6 addr add 2001:db8:a::100/64 dev a0 nodad
nsx mn ip -6 route add default via 2001:db8:a::1 dev a0

say "configs in $WORK"
cat >"$WORK/ha.conf" <<EOF
[home_agent]
address = "2001:db8:1::2"
home_prefix = "2001:db8:1::/64"
home_interface = "ha0"
[ike]
listen = ["[2001:db8:1::2]:500", "[2001:db8:1::2]:4500"]
identity = "ha.example.net"
[addresses]
pool = "2001:db8:1::1000/116"
[[mobile_node]]
identity = "alice@example.net"
auth = "psk"
psk = "lab pre-shared key, change me"
[store]
path = "$WORK/ha.db"
[daemon]
control_socket = "$WORK/ha.sock"
EOF
cat >"$WORK/mn.conf" <<EOF
identity = "alice@example.net"
[credential]
psk = "lab pre-shared key, change me"
[home_agent]
address = "2001:db8:1::2"
identity = "ha.example.net"
[mobility]
interfaces = ["a0", "b0"]
[daemon]
control_socket = "$WORK/mn.sock"
EOF
"$BIN" ha -c "$WORK/ha.conf" --check
"$BIN" mn -c "$WORK/mn.conf" --check

say "home agent and mobile node"
ip netns exec "${P}ha" tcpdump -i ha0 -U -w "$WORK/home.pcap" udp >"$WORK/tcpdump.log" 2>&1 &
PIDS+=($!)
wait_for "tcpdump" grep -q "listening on" "$WORK/tcpdump.log"
ip netns exec "${P}ha" "$BIN" ha -c "$WORK/ha.conf" >"$WORK/ha.log" 2>&1 &
PIDS+=($!)
wait_for "the home agent's control socket" "$BIN" status -s "$WORK/ha.sock"
ip netns exec "${P}mn" "$BIN" mn -c "$WORK/mn.conf" >"$WORK/mn.log" 2>&1 &
MN=$!
PIDS+=($MN)
binding_to() { "$BIN" status -s "$WORK/ha.sock" --json | grep -q "\"care_of_address\": \"$1\""; }
wait_for "the binding from A" binding_to 2001:db8:a::100
HOA=$("$BIN" status -s "$WORK/ha.sock" --json | sed -n 's/.*"home_address": "\(.*\)".*/\1/p' | head -n 1)
"$BIN" status -s "$WORK/ha.sock"

say "correspondent pings the home address $HOA (mobile node on A)"
nsx cn ping -6 -c 3 -i 0.2 -W 2 "$HOA"

say "mobile node moves to B"
nsx mn ip -6 addr flush dev a0 scope global
nsx mn ip -6 addr add 2001:db8:b::100/64 dev b0 nodad
nsx mn ip -6 route replace default via 2001:db8:b::1 dev b0
wait_for "the binding from B" binding_to 2001:db8:b::100
nsx cn ping -6 -c 3 -i 0.2 -W 2 "$HOA"
"$BIN" status -s "$WORK/mn.sock"

say "mobile node stops and de-registers"
kill -TERM "$MN"
no_binding() { ! "$BIN" status -s "$WORK/ha.sock" --json | grep -q '"home_address"'; }
wait_for "the de-registration" no_binding
"$BIN" status -s "$WORK/ha.sock"
echo
echo "lab: scenario complete"
