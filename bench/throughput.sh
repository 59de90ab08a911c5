#!/usr/bin/env bash
# TCP throughput through three userspace tunnels, side by side in one run:
# mip6's ESP data plane (AES-GCM-128, ESP in UDP 4500), wireguard-go (with
# its TUN offloads) and strongSwan's charon with kernel-libipsec (AES-GCM-128,
# ESP in UDP 4500). Each gets the same topology: two network namespaces
# joined by a veth pair (outer 2001:db8:1::1 <-> ::2), the tunnel between
# inner addresses 2001:db8:a::1 and 2001:db8:b::1, one iperf3 TCP stream
# for DURATION seconds. Prints each figure and mip6's ratios.
#
# Needs root, iperf3, wg (wireguard-tools), charon-systemd + swanctl and Go.
# wireguard-go is built from the Go module proxy into a temporary GOBIN (it
# is not one of mip6's dependencies).
#   usage: bench/throughput.sh
#   environment: DURATION=10, WG_VERSION=<wireguard-go module version>,
#   PROFILE_DIR=<dir> (CPU profiles of both mip6 ends), ONLY=mip6|wireguard|strongswan
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10}
WG_VERSION=${WG_VERSION:-v0.0.0-20260522210424-ecfc5a8d5446}
P=mip6b$$
TMP=$(mktemp -d /tmp/mip6-bench.XXXXXX)
PIDS=()

cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	sleep 0.5
	for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
	for ns in ${P}a ${P}b; do ip netns del "$ns" 2>/dev/null || true; done
	[ -n "${KEEP:-}" ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT

die() { echo "throughput.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root"
for b in iperf3 wg ip go /usr/sbin/charon-systemd /usr/sbin/swanctl; do
	command -v "$b" >/dev/null || die "missing $b (scripts/install-deps.sh)"
done

A="ip netns exec ${P}a"
B="ip netns exec ${P}b"
INNER_A=2001:db8:a::1
INNER_B=2001:db8:b::1

echo "building mip6 esptun and wireguard-go@$WG_VERSION ..."
go build -o "$TMP/esptun" ./bench/esptun
GOBIN="$TMP" GOFLAGS=-mod=mod go install "golang.zx2c4.com/wireguard@$WG_VERSION"

# topology: fresh namespaces, veth, outer addresses (no DAD: usable at once).
topology() {
	for ns in ${P}a ${P}b; do ip netns del "$ns" 2>/dev/null || true; ip netns add "$ns"; done
	for ns in ${P}a ${P}b; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		ip netns exec "$ns" ip link set lo up
	done
	ip link add va netns ${P}a type veth peer name vb netns ${P}b
	$A ip link set va up
	$B ip link set vb up
	$A ip -6 addr add 2001:db8:1::1/64 dev va nodad
	$B ip -6 addr add 2001:db8:1::2/64 dev vb nodad
}

start() { # start <logfile> <cmd...>: background process we stop at cleanup
	local log=$1; shift
	"$@" >"$log" 2>&1 &
	PIDS+=($!)
}

stop_all() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
}

# iperf: one TCP stream from A's inner address to B's; sets RESULT (Gbit/s).
iperf() {
	start "$TMP/iperf3-s.log" $B iperf3 -s -1 -B $INNER_B
	sleep 0.5
	$A ping -6 -c 2 -i 0.2 -W 2 -I $INNER_A $INNER_B >/dev/null || die "tunnel does not pass ping"
	$A iperf3 -c $INNER_B -B $INNER_A -t "$DURATION" -f g >"$TMP/iperf3-c.log" 2>&1 || { cat "$TMP/iperf3-c.log" >&2; die "iperf3 failed"; }
	[ -n "${VERBOSE:-}" ] && cat "$TMP/iperf3-c.log" >&2
	RESULT=$(awk '/receiver/ { for (i = 1; i <= NF; i++) if ($(i) == "Gbits/sec") print $(i-1) }' "$TMP/iperf3-c.log" | tail -1)
	[ -n "$RESULT" ] || { cat "$TMP/iperf3-c.log" >&2; die "no iperf3 result"; }
}

hexkey() { od -An -tx1 -N20 /dev/urandom | tr -d ' \n'; }

bench_mip6() {
	topology
	local k1 k2
	k1=$(hexkey); k2=$(hexkey)
	local prof_a=(-workers "${WORKERS:-0}" -mtu "${MIP6_MTU:-1416}") prof_b=(-workers "${WORKERS:-0}" -mtu "${MIP6_MTU:-1416}")
	if [ -n "${PROFILE_DIR:-}" ]; then prof_a+=(-cpuprofile "$PROFILE_DIR/a.prof"); prof_b+=(-cpuprofile "$PROFILE_DIR/b.prof"); fi
	start "$TMP/esptun-a.log" $A "$TMP/esptun" "${prof_a[@]}" -local [2001:db8:1::1]:4500 -remote [2001:db8:1::2]:4500 \
		-local-ts $INNER_A/128 -remote-ts $INNER_B/128 -spi-out 1001 -spi-in 2002 -key-out "$k1" -key-in "$k2"
	start "$TMP/esptun-b.log" $B "$TMP/esptun" "${prof_b[@]}" -local [2001:db8:1::2]:4500 -remote [2001:db8:1::1]:4500 \
		-local-ts $INNER_B/128 -remote-ts $INNER_A/128 -spi-out 2002 -spi-in 1001 -key-out "$k2" -key-in "$k1"
	sleep 1
	$A ip -6 addr add $INNER_A/128 dev mip6t nodad; $A ip link set mip6t up
	$B ip -6 addr add $INNER_B/128 dev mip6t nodad; $B ip link set mip6t up
	$A ip -6 route add $INNER_B/128 dev mip6t src $INNER_A
	$B ip -6 route add $INNER_A/128 dev mip6t src $INNER_B
	iperf
	if [ -n "${VERBOSE:-}" ]; then
		for ns in ${P}a ${P}b; do
			echo "== $ns" >&2
			ip netns exec "$ns" nstat -az 2>/dev/null | grep -E 'Udp6?(RcvbufErrors|SndbufErrors|InErrors)|TcpRetransSegs|Ip6InDiscards|Ip6OutDiscards' | grep -v ' 0 ' >&2 || true
			ip netns exec "$ns" ip -s link show mip6t >&2
		done
	fi
	stop_all
	grep -h "esptun:" "$TMP"/esptun-*.log >&2 || true
}

bench_wireguard() {
	topology
	local ka kb
	ka=$(wg genkey); kb=$(wg genkey)
	start "$TMP/wg-a.log" $A "$TMP/wireguard" -f wga
	start "$TMP/wg-b.log" $B "$TMP/wireguard" -f wgb
	sleep 1
	echo "$ka" >"$TMP/ka"; echo "$kb" >"$TMP/kb"
	$A wg set wga private-key "$TMP/ka" listen-port 51820 peer "$(echo "$kb" | wg pubkey)" \
		allowed-ips $INNER_B/128 endpoint [2001:db8:1::2]:51820
	$B wg set wgb private-key "$TMP/kb" listen-port 51820 peer "$(echo "$ka" | wg pubkey)" \
		allowed-ips $INNER_A/128 endpoint [2001:db8:1::1]:51820
	$A ip -6 addr add $INNER_A/128 dev wga nodad; $A ip link set wga mtu 1420 up
	$B ip -6 addr add $INNER_B/128 dev wgb nodad; $B ip link set wgb mtu 1420 up
	$A ip -6 route add $INNER_B/128 dev wga src $INNER_A
	$B ip -6 route add $INNER_A/128 dev wgb src $INNER_B
	iperf
	stop_all
}

charon_conf() { # charon_conf <dir>
	cat >"$1/strongswan.conf" <<EOF
charon-systemd {
  load = random nonce openssl aes sha2 hmac gcm kdf curve25519 pem pkcs1 pkcs8 x509 pubkey kernel-libipsec kernel-netlink socket-default vici
  plugins {
    vici { socket = unix://$1/charon.vici }
    socket-default { fwmark = 0x4d36 }
    kernel-netlink { fwmark = !0x4d36 }
  }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  filelog {
    f {
      path = $1/charon.log
      default = 1
    }
  }
}
EOF
}

swanctl_conf() { # swanctl_conf <dir> <local> <remote> <lts> <rts>
	mkdir -p "$1"/swanctl/{x509,x509ca,x509aa,x509ac,x509crl,x509ocsp,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >"$1/swanctl/swanctl.conf" <<EOF
connections {
  bench {
    local_addrs = $2
    remote_addrs = $3
    encap = yes
    proposals = aes128gcm16-prfsha256-x25519
    local { auth = psk
            id = $2 }
    remote { auth = psk
             id = $3 }
    children { net { local_ts = $4
                     remote_ts = $5
                     esp_proposals = aes128gcm16 } }
  }
}
secrets { ike-1 { id-1 = $2
                  id-2 = $3
                  secret = "benchmark only, not a secret" } }
EOF
}

bench_strongswan() {
	topology
	$A ip -6 addr add $INNER_A/128 dev lo nodad
	$B ip -6 addr add $INNER_B/128 dev lo nodad
	for s in a b; do mkdir -p "$TMP/ss-$s"; charon_conf "$TMP/ss-$s"; done
	swanctl_conf "$TMP/ss-a" 2001:db8:1::1 2001:db8:1::2 $INNER_A/128 $INNER_B/128
	swanctl_conf "$TMP/ss-b" 2001:db8:1::2 2001:db8:1::1 $INNER_B/128 $INNER_A/128
	start "$TMP/ss-a.out" env STRONGSWAN_CONF="$TMP/ss-a/strongswan.conf" $A /usr/sbin/charon-systemd
	start "$TMP/ss-b.out" env STRONGSWAN_CONF="$TMP/ss-b/strongswan.conf" $B /usr/sbin/charon-systemd
	for s in a b; do
		local ns=${P}$s i
		for i in $(seq 50); do
			ip netns exec "$ns" swanctl --stats --uri "unix://$TMP/ss-$s/charon.vici" >/dev/null 2>&1 && break
			sleep 0.1
		done
		SWANCTL_DIR="$TMP/ss-$s/swanctl" ip netns exec "$ns" swanctl --load-all --noprompt \
			--file "$TMP/ss-$s/swanctl/swanctl.conf" --uri "unix://$TMP/ss-$s/charon.vici" >/dev/null
	done
	$A swanctl --initiate --child net --timeout 15 --uri "unix://$TMP/ss-a/charon.vici" >/dev/null || { cat "$TMP"/ss-a/charon.log "$TMP"/ss-a.out >&2; die "strongSwan: no CHILD_SA"; }
	iperf
	stop_all
}

case "${ONLY:-}" in
mip6 | wireguard | strongswan) "bench_$ONLY"; echo "$ONLY: $RESULT Gbit/s"; exit 0 ;;
esac
bench_mip6
mip6=$RESULT
echo "mip6 ESP (AES-GCM-128, UDP 4500):     $mip6 Gbit/s"
bench_wireguard
wg=$RESULT
echo "wireguard-go:                         $wg Gbit/s"
bench_strongswan
ss=$RESULT
echo "strongSwan kernel-libipsec (GCM-128): $ss Gbit/s"
awk -v m="$mip6" -v w="$wg" -v s="$ss" 'BEGIN {
	printf "mip6 / wireguard-go: %.2fx (goal >= 1.2)\n", m / w
	printf "mip6 / strongSwan:   %.2fx (goal >= 6)\n", m / s
}'
