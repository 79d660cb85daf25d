#!/usr/bin/env bash
# Runs every fuzz target of the module for N seconds each (default 10),
# one at a time, and prints each target's execs and any crash.
#
#   bench/fuzz.sh            # 10 s per target
#   bench/fuzz.sh 60         # a longer campaign
#   bench/fuzz.sh 5 ./config # only the targets of some packages
#
# A crash leaves its input in the package's testdata/fuzz/FuzzX/; commit
# it as a seed once the bug is fixed. The exit status is 1 when any
# target failed.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-10}
shift || true
pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)

# Each package with fuzz targets, and its targets, from the test sources.
mapfile -t dirs < <(go list -f '{{.Dir}}' "${pkgs[@]}")
failed=0
total=0
printf '%-44s %-28s %12s %10s  %s\n' package target execs execs/s result
for dir in "${dirs[@]}"; do
  mapfile -t targets < <(grep -ho '^func Fuzz[A-Za-z0-9_]*(f \*testing.F)' "$dir"/*_test.go 2>/dev/null | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/' | sort -u)
  [ ${#targets[@]} -gt 0 ] || continue
  rel=./${dir#"$PWD"/}
  [ "$dir" = "$PWD" ] && rel=.
  for t in "${targets[@]}"; do
    total=$((total + 1))
    # A short -fuzzminimizetime: minimizing each new interesting input for
    # the default minute would eat most of a short run.
    out=$(go test -run '^$' -fuzz "^$t\$" -fuzztime "${secs}s" -fuzzminimizetime 50x "$rel" 2>&1)
    rc=$?
    execs=$(printf '%s\n' "$out" | sed -n 's/.*execs: \([0-9]*\).*/\1/p' | tail -1)
    execs=${execs:-0}
    rate=$((execs / secs))
    if [ $rc -eq 0 ]; then
      result=ok
    else
      result=FAIL
      failed=$((failed + 1))
    fi
    printf '%-44s %-28s %12s %10s  %s\n' "$rel" "$t" "$execs" "$rate" "$result"
    if [ $rc -ne 0 ]; then
      printf '%s\n' "$out" | grep -v '^fuzz: elapsed' | sed 's/^/    /'
    fi
  done
done
echo "$total targets, $failed failed, ${secs}s each"
[ $failed -eq 0 ]
