# bench/lib.sh: what bench/auth.sh and bench/million.sh share. Sourced,
# not run: it makes the temporary directory $tmp, removed with every
# process started by start when the script ends, however it ends.

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

script=$(basename "$0")
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
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$script: $name exited at start:" >&2; cat "$tmp/$name.err" >&2; exit 1; }
    sleep 0.1
  done
  echo "$script: $name did not start within 30s" >&2; exit 1
}

# start_keyward BIN: starts keyward serve on loopback over $tmp/keyward.db
# with bench/keyward.yaml. Rate limits stay on (their check is part of
# every verdict), with a budget the load cannot spend.
start_keyward() {
  start keyward "$1" serve --addr 127.0.0.1:0 --database-url "$tmp/keyward.db" --config bench/keyward.yaml \
    --rate-limit-token 10000000
}

# written URL: waits until the keyward server at URL has written all the
# use it gathered (a token's first use is an audit event), so that no
# backlog of writes is measured as the cost of verifying; prints how many
# seconds that took.
written() {
  local t0 n
  t0=$(date +%s)
  for _ in $(seq 1 600); do
    n=$(curl -fsS "$1/metrics" | awk '/^keyward_usage_unwritten_tokens / {print $2}')
    [ "$n" = 0 ] && { echo $(( $(date +%s) - t0 )); return; }
    sleep 1
  done
  echo "$script: the server still had $n tokens' use to write after 10 minutes" >&2; exit 1
}

# entries URL: how many tokens the keyward server at URL has cached.
entries() { curl -fsS "$1/metrics" | awk '/^keyward_verify_cache_entries / {print $2}'; }

# cpu_ticks PID: the user and system CPU time PID has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# rss_mib PID: PID's resident memory now, in MiB.
rss_mib() { awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

# wrk_run NAME URL TOKENS: one wrk run of $DURATION with $THREADS threads
# and $CONNECTIONS connections against URL/v1/auth, each request with the
# next token of the file TOKENS; prints "NAME RPS P99 CPU", CPU being the
# CPU time per request, in microseconds, of the process $pid_of_NAME names:
# a figure that other load on the machine disturbs far less than requests
# per second. Any answer but 2xx fails the script unless ALLOW_REFUSALS=1.
wrk_run() {
  local name=$1 url=$2 tokens=$3 out="$tmp/wrk.out"
  local pid_var="pid_of_$1" before ticks requests
  local pid=${!pid_var}
  before=$(cpu_ticks "$pid")
  timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/auth.lua "$url/v1/auth" -- "$tokens" >"$out"
  if grep -q 'Non-2xx' "$out" && [ "${ALLOW_REFUSALS:-0}" != 1 ]; then
    echo "$script: $name answered non-2xx statuses:" >&2; grep -E 'Non-2xx|requests in' "$out" >&2; exit 1
  fi
  grep -q 'Socket errors' "$out" && grep 'Socket errors' "$out" >&2
  ticks=$(( $(cpu_ticks "$pid") - before ))
  requests=$(awk '/requests in/ {print $1}' "$out")
  printf '%s %s %s %.1f\n' "$name" "$(awk '/^Requests\/sec:/ {print $2}' "$out")" "$(awk '$1 == "99%" {print $2}' "$out")" \
    "$(awk -v t="$ticks" -v hz="$hz" -v n="$requests" 'BEGIN {print t / hz * 1e6 / n}')"
}

# summary A B: the mean requests/s, CPU per request and p99s of the runs
# of A and of B in $tmp/results, and the ratio of B's requests/s to A's.
summary() {
  awk -v a="$1" -v b="$2" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    { rps[$1] += $2; n[$1]++; p99[$1] = p99[$1] " " ms($3); cpu[$1] += $4 }
    END {
      for (i = 1; i <= 2; i++) {
        k = i == 1 ? a : b
        printf "%-14s %10.0f requests/s (mean of %d), %5.1f us CPU/request, p99 ms:%s\n", k ":", rps[k] / n[k], n[k], cpu[k] / n[k], p99[k]
      }
      printf "ratio %s/%s: %.2f requests/s, %.2f CPU per request\n", b, a, (rps[b] / n[b]) / (rps[a] / n[a]), (cpu[a] / n[a]) / (cpu[b] / n[b])
    }' "$tmp/results"
}
