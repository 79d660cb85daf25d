#!/usr/bin/env bash
# bench/auth.sh: requests per second of keyward's GET /v1/auth against a
# bare Go net/http handler, on loopback, with the same wrk load.
#
# It builds keyward and bench/bare, starts both on 127.0.0.1 (keyward on a
# fresh SQLite file in a temporary directory, with a route policy), mints
# $TOKENS tokens through the API, and runs wrk with bench/auth.lua (each
# request presents the next token as a Bearer token) against each server
# in turn, $RUNS times each. It prints each run, the mean requests/s of
# each server, their ratio (budget: at least 0.70), each server's CPU time
# per request and the p99 latency. Everything it starts is stopped, and its temporary directory (which holds
# the tokens) removed, when it ends, however it ends.
#
#   bench/auth.sh                       # 3 runs each, 10s, 2 threads, 64 connections
#   RUNS=1 DURATION=5s bench/auth.sh    # quicker
#   WARMUP=3s                           # the unmeasured pass that fills the cache
#   PERF=/tmp/kw.data bench/auth.sh     # perf record -g of keyward during its
#                                       # first measured run (perf report -i ...)
#   EDGE_ONLY=1 bench/auth.sh           # each token's checksum broken: keyward
#                                       # answers 401 with no database read, which
#                                       # measures the HTTP edge alone
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
TOKENS=${TOKENS:-10000}
EDGE_ONLY=${EDGE_ONLY:-0}
PERF=${PERF:-}

for tool in go wrk; do
  command -v "$tool" >/dev/null || { echo "auth.sh: $tool is not installed (apt-get install wrk)" >&2; exit 1; }
done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '== %s\n' "$*" >&2; }

# start NAME CMD...: runs CMD in the background, its output in $tmp/NAME.*,
# and writes the URL it announces ("listening on http://...") to
# $tmp/NAME.url. It runs in this shell, not in a command substitution, so
# that cleanup knows the process.
start() {
  local name=$1; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 1 300); do
    local url
    url=$(grep -o 'listening on http://[0-9.:]*' "$tmp/$name.out" | head -1 | cut -d' ' -f3 || true)
    if [ -n "$url" ]; then echo "$url" >"$tmp/$name.url"; return; fi
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "auth.sh: $name exited at start:" >&2; cat "$tmp/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "auth.sh: $name did not start within 30s" >&2; exit 1
}

log "building"
# Under PERF the binary stays beside the profile, for perf report.
kw_bin=$tmp/keyward
[ -n "$PERF" ] && kw_bin=$PERF.keyward
go build -o "$kw_bin" ./cmd/keyward
go build -o "$tmp/bare" ./bench/bare
go build -o "$tmp/mint" ./bench/mint

cat >"$tmp/keyward.yaml" <<'YAML'
permissions: [monitors:read, monitors:write]
trusted_proxies: [127.0.0.1]
routes:
  - methods: [GET, HEAD]
    path: /monitors/*
    permission: monitors:read
    kinds: [pat, oauth, api_key]
  - path: /*
    kinds: [pat, oauth, api_key]
YAML

log "starting keyward and the bare handler on loopback"
# Rate limits stay on (their check is part of every verdict), with a
# budget the minting token and the load cannot spend.
start keyward "$kw_bin" serve --addr 127.0.0.1:0 --database-url "$tmp/keyward.db" --config "$tmp/keyward.yaml" \
  --rate-limit-token 10000000
kw_url=$(cat "$tmp/keyward.url")
start bare "$tmp/bare" -addr 127.0.0.1:0
bare_url=$(cat "$tmp/bare.url")

log "minting $TOKENS tokens through the API"
"$kw_bin" bootstrap --database-url "$tmp/keyward.db" --email bench@example.com --org Bench -o json >"$tmp/boot.json"
start_mint=$(date +%s)
timeout 600 "$tmp/mint" -url "$kw_url" -bootstrap "$tmp/boot.json" -n "$TOKENS" -out "$tmp/tokens.txt"
log "minted $(wc -l <"$tmp/tokens.txt") tokens in $(( $(date +%s) - start_mint ))s"
if [ "$EDGE_ONLY" = 1 ]; then
  log "EDGE_ONLY: breaking every token's checksum; keyward will answer 401"
  sed -i 's/.$/!/' "$tmp/tokens.txt"
fi

# cpu_ticks PID: the user and system CPU time PID has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run NAME URL: one wrk run; prints "NAME RPS P99 CPU", CPU being the
# server's CPU time per request in microseconds: a figure that other load
# on the machine disturbs far less than requests per second.
run() {
  local out="$tmp/wrk.out" pid=${pids[0]}
  [ "$1" = bare ] && pid=${pids[1]}
  local before
  before=$(cpu_ticks "$pid")
  if [ -n "$PERF" ] && [ "$1" = keyward ] && [ "${measuring:-0}" = 1 ] && ! [ -e "$tmp/perf.started" ]; then
    touch "$tmp/perf.started"
    perf record -q -F 499 -g -o "$PERF" -p "${pids[0]}" -- sleep "${DURATION%s}" >/dev/null 2>&1 &
  fi
  timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/auth.lua "$2/v1/auth" -- "$tmp/tokens.txt" >"$out"
  if grep -q 'Non-2xx' "$out" && ! [ "$EDGE_ONLY" = 1 -a "$1" = keyward ]; then
    echo "auth.sh: $1 answered non-2xx statuses:" >&2; grep -E 'Non-2xx|requests in' "$out" >&2; exit 1
  fi
  grep -q 'Socket errors' "$out" && grep 'Socket errors' "$out" >&2
  local ticks requests
  ticks=$(( $(cpu_ticks "$pid") - before ))
  requests=$(awk '/requests in/ {print $1}' "$out")
  printf '%s %s %s %.1f\n' "$1" "$(awk '/^Requests\/sec:/ {print $2}' "$out")" "$(awk '$1 == "99%" {print $2}' "$out")" \
    "$(awk -v t="$ticks" -v hz="$hz" -v n="$requests" 'BEGIN {print t / hz * 1e6 / n}')"
}

# The budget is for verdicts from the verification cache: one unmeasured
# pass over every token first, as a product's steady traffic would have
# made, so that no measured run pays the first look-up of each token.
log "warming keyward's verification cache"
DURATION=${WARMUP:-3s} run keyward "$kw_url" >/dev/null

log "wrk: $RUNS runs each, interleaved, $DURATION, $THREADS threads, $CONNECTIONS connections"
results="$tmp/results"
measuring=1
: >"$results"
for i in $(seq 1 "$RUNS"); do
  run bare "$bare_url" | tee -a "$results"
  run keyward "$kw_url" | tee -a "$results"
done

awk '
  function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
  { rps[$1] += $2; n[$1]++; p99[$1] = p99[$1] " " ms($3); cpu[$1] += $4 }
  END {
    b = rps["bare"] / n["bare"]; k = rps["keyward"] / n["keyward"]
    cb = cpu["bare"] / n["bare"]; ck = cpu["keyward"] / n["keyward"]
    printf "bare handler:  %10.0f requests/s (mean of %d), %5.1f us CPU/request, p99 ms:%s\n", b, n["bare"], cb, p99["bare"]
    printf "keyward auth:  %10.0f requests/s (mean of %d), %5.1f us CPU/request, p99 ms:%s\n", k, n["keyward"], ck, p99["keyward"]
    printf "ratio:         %10.2f (budget: at least 0.70); CPU per request, bare/keyward: %.2f\n", k / b, cb / ck
  }' "$results"
