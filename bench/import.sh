#!/usr/bin/env bash
# bench/import.sh: time and peak memory of `keyward admin import` of $ROWS
# rows (default 100,000) of hex SHA-256s into a fresh SQLite database, then
# of the same import again (every row unchanged). Everything it makes is in
# a temporary folder, removed when it ends.
#
#   bench/import.sh
#   ROWS=10000 bench/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-100000}
command -v /usr/bin/time >/dev/null || { echo "import.sh: /usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/keyward" ./cmd/keyward
"$tmp/keyward" bootstrap --email owner@example.com --org Acme --database-url "$tmp/k.db" -o json >/dev/null
python3 - "$ROWS" "$tmp/keys.csv" <<'PY'
import hashlib, sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("org,name,sha256,created_at\n")
    for i in range(n):
        h = hashlib.sha256(f"legacy-key-{i:08d}-abcdefghijkl".encode()).hexdigest()
        f.write(f"acme,key {i},{h},2025-01-01\n")
PY
for run in first again; do
  /usr/bin/time -f "$run: %e s wall, %M KiB peak RSS" "$tmp/keyward" admin import "$tmp/keys.csv" --database-url "$tmp/k.db"
done
