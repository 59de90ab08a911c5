#!/usr/bin/env bash
# Compares IKE responders side by side in one run on this machine: handshakes
# (PSK, Curve25519, AES-GCM-128, one CHILD_SA, CP address) per responder
# CPU-second and resident memory per SA, for mip6 and strongSwan's charon,
# at about 1,000 and 10,000 established SAs. Needs root (network namespaces).
# MIP6_IKE_COMPARE_LEVELS=1000,10000 overrides the levels.
set -euo pipefail
cd "$(dirname "$0")"
go test -run '^$' -bench '^BenchmarkResponderVsCharon$' -benchtime 1x -timeout 30m . | grep -E '^(at |mip6:|charon:|Benchmark|ok|FAIL)'
