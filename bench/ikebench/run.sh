#!/usr/bin/env bash
# Side-by-side IKEv2 responder benchmark: mip6 (bench/ikebench responder)
# against strongSwan's charon, both driven by the same mip6 load generator
# over a veth pair between two network namespaces this script creates and
# deletes. Measures IKE_SA_INIT + IKE_AUTH handshakes (PSK, Curve25519,
# AES-GCM-128, one CHILD_SA, CP address) per responder CPU-second (utime +
# stime from /proc/<pid>/stat) and the responder's memory per established
# IKE SA, up to 1,000 and 10,000 established SAs, and prints the ratios.
#
#   sudo bash bench/ikebench/run.sh
#
# Environment: N (10000), PHASES ("1000,9000,10000": sampling points, the
# last is N), CONC (64 handshakes in flight), MIP6_TIMEOUT (5m),
# CHARON_TIMEOUT (5m per charon run: it is capped there and says so),
# CHARON_VARIANTS ("libipsec libipsec-tuned"; each KERNEL[-tuned], see
# charon_conf; netlink needs a kernel with XFRM, which this machine's lacks), KEEP (keep the work directory and logs),
# MIP6_IKE_ONLY (1: also run mip6 without installing CHILD_SAs; empty: skip),
# MIP6_DH_REUSE (1s: also run mip6 reusing its DH key that long; empty: skip),
# CHARON_LOG (charon log level, 0), PROFILE (CPU profile of the mip6
# responder in the kept work directory; set KEEP too).
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "run as root: sudo bash $0" >&2; exit 1; }
cd "$(dirname "$0")/../.."
N=${N:-10000}
PHASES=${PHASES:-1000,9000,$N}
CONC=${CONC:-64}
MIP6_TIMEOUT=${MIP6_TIMEOUT:-5m}
CHARON_TIMEOUT=${CHARON_TIMEOUT:-5m}
CHARON_VARIANTS=${CHARON_VARIANTS-libipsec libipsec-tuned}
CHARON=/usr/sbin/charon-systemd
SWANCTL=/usr/sbin/swanctl
GO=$(command -v go || echo /usr/local/go/bin/go)

R=ikeb-r-$$ I=ikeb-i-$$            # responder and initiator namespaces
RA=2001:db8:b::1 IA=2001:db8:b::2   # veth addresses
CLIENTS=2001:db8:c1::/64            # initiator addresses (local route)
POOL=2001:db8:d::/112               # CP pool of both responders
PSK="ikebench pre-shared key, not a secret"
TMP=$(mktemp -d /tmp/ikebench.XXXXXX)
PIDS=()

cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	ip netns del "$R" 2>/dev/null || true
	ip netns del "$I" 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "kept $TMP" >&2; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

for b in "$CHARON" "$SWANCTL"; do [ -x "$b" ] || { echo "missing $b (scripts/install-deps.sh)" >&2; exit 1; }; done

setup_net() {
	ip netns add "$R"
	ip netns add "$I"
	ip link add ikbr$$ netns "$R" type veth peer name ikbi$$ netns "$I"
	ip -n "$R" link set lo up
	ip -n "$I" link set lo up
	ip -n "$R" addr add $RA/64 dev ikbr$$ nodad
	ip -n "$I" addr add $IA/64 dev ikbi$$ nodad
	ip -n "$R" link set ikbr$$ up
	ip -n "$I" link set ikbi$$ up
	# Every address of CLIENTS is local in I (AnyIP); R reaches them via IA,
	# so neither side keeps a neighbour entry per initiator.
	ip -n "$I" -6 route add local $CLIENTS dev lo
	ip -n "$R" -6 route add $CLIENTS via $IA
	# Resolve the neighbours now: the first burst would otherwise overflow
	# the queue of packets waiting for address resolution.
	wait_for ip netns exec "$I" ping -6 -c1 -W1 $RA
}

# wait_for CMD...: retry for 10 s.
wait_for() {
	for _ in $(seq 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

stop() { # pid: SIGTERM, then SIGKILL after 10 s
	kill "$1" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

initiate() { # label pid config out timeout [heap-stats]
	ip netns exec "$I" "$TMP/ikebench" initiator -target "[$RA]:500" -prefix $CLIENTS -phases "$PHASES" \
		-concurrency "$CONC" -pid "$2" -label "$1" -config "$3" -out "$4" -timeout "$5" -psk "$PSK" \
		${6:+-heap-stats "$6"}
}

run_mip6() { # label install(true|false) description [dh-reuse]
	echo "== $1 responder: up to $N SAs" >&2
	ip netns exec "$R" "$TMP/ikebench" responder -listen "[$RA]:500" -pool $POOL -psk "$PSK" -install="$2" \
		-dh-reuse "${4:-0s}" \
		-stats "$TMP/$1.stats" ${PROFILE:+-cpuprofile "$TMP/$1.pprof"} 2>"$TMP/$1.log" &
	local pid=$!
	PIDS+=("$pid")
	wait_for test -s "$TMP/$1.stats" || { cat "$TMP/$1.log" >&2; exit 1; }
	initiate "$1" "$pid" "$3, GOMAXPROCS=$(nproc)" "$TMP/$1.json" "$MIP6_TIMEOUT" "$TMP/$1.stats"
	stop "$pid"
	tail -n 3 "$TMP/$1.log" >&2
}

# charon_conf DIR VARIANT: strongswan.conf for a variant named KERNEL[-tuned].
# KERNEL libipsec: CHILD_SAs in charon's user-space SAD/SPD (kernel-libipsec,
# which fakes a NAT to force UDP encapsulation); netlink: in the Linux XFRM
# SAD/SPD through kernel-netlink (strongSwan's usual setup; the syscalls
# count as charon's CPU time, the kernel's memory not as its RSS; needs
# CONFIG_XFRM, charon logs ENOSYS without it). -tuned
# sizes the IKE SA table for 10,000 SAs (strongSwan's default is one bucket).
charon_conf() {
	local table="" kernel=kernel-libipsec
	case "$2" in *-tuned) table="ikesa_table_size = 16384
  ikesa_table_segments = 16" ;; esac
	case "$2" in netlink*) kernel="" ;; esac
	cat >"$1/strongswan.conf" <<CONF
charon-systemd {
  load = random nonce openssl aes sha2 hmac gcm curve25519 kdf attr $kernel kernel-netlink socket-default vici
  install_routes = no
  cookie_threshold = 1048576
  $table
  plugins {
    vici { socket = unix://$1/charon.vici }
    socket-default { fwmark = 0x4d36 }
    kernel-netlink { fwmark = !0x4d36 }
    kernel-libipsec { allow_peer_ts = yes }
  }
  journal { default = -1 }
  syslog { daemon { default = -1 } }
  filelog { charon { path = $1/charon.log
    default = ${CHARON_LOG:-0} } }
}
swanctl { socket = unix://$1/charon.vici }
CONF
	mkdir -p "$1/swanctl"/{x509,x509ca,x509ocsp,x509aa,x509ac,x509crl,pubkey,private,rsa,ecdsa,bliss,pkcs8,pkcs12}
	cat >"$1/swanctl/swanctl.conf" <<CONF
connections {
  bench {
    local_addrs = $RA
    proposals = aes128gcm16-prfsha256-x25519
    pools = bench
    local { auth = psk
      id = ha.bench.example }
    remote { auth = psk }
    children { home { local_ts = 2001:db8::/32
      esp_proposals = aes128gcm16 } }
  }
}
secrets { ike-bench { secret = "$PSK" } }
pools { bench { addrs = $POOL } }
CONF
}

run_charon() { # variant
	local dir="$TMP/charon-$1" env
	mkdir -p "$dir"
	charon_conf "$dir" "$1"
	env=(env STRONGSWAN_CONF="$dir/strongswan.conf" SWANCTL_DIR="$dir/swanctl")
	echo "== strongSwan charon ($1): up to $N SAs, capped at $CHARON_TIMEOUT" >&2
	ip netns exec "$R" "${env[@]}" "$CHARON" >"$dir/stdout" 2>&1 &
	local pid=$!
	PIDS+=("$pid")
	wait_for ip netns exec "$R" "${env[@]}" "$SWANCTL" --stats || { cat "$dir/stdout" "$dir/charon.log" >&2; exit 1; }
	ip netns exec "$R" "${env[@]}" "$SWANCTL" --load-all --noprompt >"$dir/load.log"
	grep -q failed "$dir/load.log" && { cat "$dir/load.log" >&2; exit 1; }
	local tbl="strongSwan default IKE SA table (1 bucket)" kernel="kernel-libipsec (user-space SAD/SPD, UDP-encapsulated)"
	case "$1" in *-tuned) tbl="ikesa_table_size=16384, 16 segments" ;; esac
	case "$1" in netlink*) kernel="kernel-netlink (Linux XFRM SAD/SPD; RSS excludes kernel memory)" ;; esac
	initiate "charon-$1" "$pid" "charon-systemd $(dpkg-query -W -f='${Version}' charon-systemd 2>/dev/null), $kernel, install_routes=no, cookie_threshold=1048576, $tbl, log level 0" \
		"$TMP/charon-$1.json" "$CHARON_TIMEOUT"
	stop "$pid"
}

echo "building ikebench" >&2
"$GO" build -o "$TMP/ikebench" ./bench/ikebench
setup_net
run_mip6 mip6 true "mip6/ike responder, each CHILD_SA pair installed in an ipsec.SAD (esp.SA with AES-GCM state)"
args=()
if [ -n "${MIP6_DH_REUSE-1s}" ]; then
	run_mip6 mip6-dh-reuse true "mip6 as above, its DH key reused for ${MIP6_DH_REUSE-1s} (RFC 7296 §2.12)" "${MIP6_DH_REUSE-1s}"
	args+=(-extra "$TMP/mip6-dh-reuse.json")
fi
if [ -n "${MIP6_IKE_ONLY-1}" ]; then
	run_mip6 mip6-ike-only false "mip6/ike responder alone, CHILD_SAs not installed (memory of the IKE engine)"
	args+=(-extra "$TMP/mip6-ike-only.json")
fi
for v in $CHARON_VARIANTS; do
	run_charon "$v"
	args+=(-charon "$TMP/charon-$v.json")
done
echo
echo "IKE_SA_INIT + IKE_AUTH (PSK, Curve25519, AES-GCM-128, one CHILD_SA, CP address), $(nproc) cores, $(uname -r)"
"$TMP/ikebench" report -mip6 "$TMP/mip6.json" ${args[@]+"${args[@]}"}
