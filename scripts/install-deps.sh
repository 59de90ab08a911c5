#!/usr/bin/env bash
# Installs the system packages the test suite and the lab need (Debian 12).
# Idempotent: packages already present are skipped quickly.
set -euo pipefail
pkgs=(
  tshark iproute2 nftables iputils-ping iperf3 tcpdump
  charon-systemd strongswan-swanctl strongswan-pki libcharon-extra-plugins libstrongswan-extra-plugins
  libstrongswan-standard-plugins
  freeradius freeradius-utils eapoltest
  knot knot-dnsutils
  kea-dhcp6-server
  etcd-server
  wireguard-tools
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# The packages' own services must not run: the tests start private instances.
for svc in strongswan strongswan-starter freeradius knot kea-dhcp6-server etcd; do
  (systemctl stop "$svc" 2>/dev/null || service "$svc" stop 2>/dev/null) >/dev/null 2>&1 || true
done
echo "install-deps: all prerequisites present"
