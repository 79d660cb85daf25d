#!/bin/sh
# The statusboard's monitors with curl (and jq): create, list, get, delete,
# and a request without a token refused.
#   STATUSBOARD_URL=http://127.0.0.1:8090 STATUSBOARD_TOKEN=kw_pat_... sh monitors.sh
set -eu
url=${STATUSBOARD_URL:-http://127.0.0.1:8090}
auth="Authorization: Bearer $STATUSBOARD_TOKEN"

created=$(curl -fsS -X POST "$url/v1/monitors" -H "$auth" -H 'Content-Type: application/json' \
  -d '{"name":"homepage","url":"https://example.com","interval_seconds":60}')
id=$(printf '%s' "$created" | jq -r .id)
echo "created $id"

list=$(curl -fsS "$url/v1/monitors" -H "$auth")
printf '%s' "$list" | jq -r '"listed \(.monitors | length) monitor(s)"'
got=$(curl -fsS "$url/v1/monitors/$id" -H "$auth")
printf '%s' "$got" | jq -r '"got \(.name): \(.url)"'

curl -fsS -X DELETE "$url/v1/monitors/$id" -H "$auth"
echo "deleted $id"

# Without a token: 401, keyward's error body, the verdict in X-Keyward-Code.
curl -sS -o /dev/null -w 'refused without a token: %{http_code} %header{x-keyward-code}\n' "$url/v1/monitors"
refused=$(curl -sS "$url/v1/monitors")
printf '%s' "$refused" | jq -r '"verdict \(.verdict): \(.message)"'
