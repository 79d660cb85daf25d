#!/usr/bin/env bash
# bench/million.sh: what a million active tokens cost keyward, against ten
# thousand: GET /v1/auth requests per second and CPU per request from the
# verification cache, and the memory the server holds for them.
#
# It builds keyward, bootstraps a fresh SQLite file in a temporary
# directory, writes $TOKENS personal access tokens into it (bench/million
# -mint) and starts `keyward serve` with bench/keyward.yaml. It presents
# the first $SMALL tokens once (bench/million -warm), so that they are
# cached, and runs wrk with bench/auth.lua over them $RUNS times
# ("alone"). It then presents all the tokens, waits until the server has
# written their first uses (so that no backlog of writes is measured),
# and runs wrk $RUNS times each, interleaved, over the first $SMALL
# ("small") and over all of them ("all"). It prints each run, the ratios
# (budget: "all" costs at most 1.5 times as much per request as
# "alone"), the server's resident memory (RSS) at start, with $SMALL
# tokens cached, with all of them, and after the runs and a minute's
# rest (budget: the memory held for them under 300 MB), and the Go heap.
# Everything it starts is stopped, and its temporary directory (which
# holds the tokens and the database) removed, when it ends, however it
# ends.
#
#   bench/million.sh                            # 1,000,000 against 10,000, 2 runs each of 10s
#   TOKENS=200000 RUNS=1 bench/million.sh       # quicker
#   PERF=/tmp/m.data bench/million.sh           # perf record -g of keyward during
#                                               # the first "all" run (perf report -i ...)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-2}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
TOKENS=${TOKENS:-1000000}
SMALL=${SMALL:-10000}
PERF=${PERF:-}

for tool in go wrk curl; do
  command -v "$tool" >/dev/null || { echo "million.sh: $tool is not installed (apt-get install wrk curl)" >&2; exit 1; }
done

source bench/lib.sh

log "building"
# Under PERF the binary stays beside the profile, for perf report.
kw_bin=$tmp/keyward
[ -n "$PERF" ] && kw_bin=$PERF.keyward
go build -o "$kw_bin" ./cmd/keyward
go build -o "$tmp/million" ./bench/million

log "writing $TOKENS tokens into a fresh database"
"$kw_bin" bootstrap --database-url "$tmp/keyward.db" --email bench@example.com --org Bench -o json >"$tmp/boot.json"
t0=$(date +%s)
"$tmp/million" -mint -database-url "$tmp/keyward.db" -bootstrap "$tmp/boot.json" -n "$TOKENS" -out "$tmp/all.txt"
head -n "$SMALL" "$tmp/all.txt" >"$tmp/small.txt"
log "wrote $(wc -l <"$tmp/all.txt") tokens in $(( $(date +%s) - t0 ))s"

start_keyward "$kw_bin"
url=$(cat "$tmp/keyward.url")
pid_of_small=${pids[-1]}
pid_of_all=$pid_of_small
rss_start=$(rss_mib "$pid_of_small")

log "caching the first $SMALL tokens"
"$tmp/million" -warm -url "$url" -tokens "$tmp/small.txt"
written "$url" >/dev/null
DURATION=3s wrk_run small "$url" "$tmp/small.txt" >/dev/null
: >"$tmp/results"
pid_of_alone=$pid_of_small
log "wrk: $RUNS runs over the $SMALL tokens, with only them cached"
for i in $(seq 1 "$RUNS"); do
  wrk_run alone "$url" "$tmp/small.txt" | tee -a "$tmp/results"
done
written "$url" >/dev/null
sleep 65 # a return of free memory (at most once a minute)
rss_small=$(rss_mib "$pid_of_small")
entries_small=$(entries "$url")

log "caching all $TOKENS tokens"
t0=$(date +%s)
"$tmp/million" -warm -url "$url" -tokens "$tmp/all.txt"
log "presented $TOKENS tokens in $(( $(date +%s) - t0 ))s"
waited=$(written "$url")
log "their first uses written ${waited}s later"
rss_all=$(rss_mib "$pid_of_small")
entries_all=$(entries "$url")

log "wrk: $RUNS runs each, interleaved, $DURATION, $THREADS threads, $CONNECTIONS connections"
for i in $(seq 1 "$RUNS"); do
  wrk_run small "$url" "$tmp/small.txt" | tee -a "$tmp/results"
  if [ -n "$PERF" ] && [ "$i" = 1 ]; then
    perf record -q -F 499 -g -o "$PERF" -p "$pid_of_all" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
  fi
  wrk_run all "$url" "$tmp/all.txt" | tee -a "$tmp/results"
done
log "resting 65s: the server returns free memory it keeps at most once a minute"
sleep 65
rss_after=$(rss_mib "$pid_of_small")
heap=$(curl -fsS "$url/metrics" | awk '
  /^go_memstats_heap_alloc_bytes / {a = $2} /^go_memstats_heap_inuse_bytes / {u = $2}
  /^go_memstats_heap_idle_bytes / {i = $2} /^go_memstats_heap_released_bytes / {r = $2}
  END {printf "Go heap MiB: %.0f allocated, %.0f in use, %.0f idle and kept from the OS", a / 1048576, u / 1048576, (i - r) / 1048576}')
peak=$(awk '/^VmHWM:/ {printf "%.0f", $2 / 1024}' "/proc/$pid_of_small/status")

summary alone all
summary small all
echo "budget: all at least 0.67 of alone's requests/s (at most 1.5 times the cost per request)"
printf 'cache entries: %s with the first %s tokens, %s with all %s\n' "$entries_small" "$SMALL" "$entries_all" "$TOKENS"
printf 'server RSS MiB: %s at start, %s with %s cached, %s with %s cached, %s after the runs and a rest (peak %s)\n' \
  "$rss_start" "$rss_small" "$SMALL" "$rss_all" "$TOKENS" "$rss_after" "$peak"
echo "$heap (after the runs and the rest)"
failed=$(grep -c 'writing token usage' "$tmp/keyward.err" || true)
[ "$failed" = 0 ] || echo "the server logged $failed failed usage writes"
printf 'memory held for %s tokens: %s MiB (RSS after the runs and a rest less RSS with %s cached); budget: under 300 MB\n' \
  "$TOKENS" "$(( rss_after - rss_small ))" "$SMALL"
