#!/usr/bin/env bash
# The whole test suite: installs the system prerequisites, then runs unit,
# lab (vnet) and system (network namespace, real peers) tests, and each fuzz
# target briefly. Needs root for the system tests (CI has it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
go mod download
go vet ./...
go build ./...
# One package at a time: the system tests of several packages run real
# daemons in namespaces, and on two shared cores running them side by side
# only adds timing noise.
go test -p 1 -count=1 -timeout 30m ./...
# Each fuzz target runs briefly on top of its seed corpus.
fuzztime=${MIP6_FUZZTIME:-4s}
for pkg in $(go list ./...); do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u); do
    echo "fuzz: $pkg $f ($fuzztime)"
    go test -run='^$' -fuzz="^${f}\$" -fuzztime="$fuzztime" "$pkg" >/tmp/mip6-fuzz.log 2>&1 || { cat /tmp/mip6-fuzz.log; exit 1; }
  done
done
echo "test.sh: all tests passed"
