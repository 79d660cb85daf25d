"""The statusboard's monitors with requests: create, list, get, delete,
and a request without a token refused.

    STATUSBOARD_URL=http://127.0.0.1:8090 STATUSBOARD_TOKEN=kw_pat_... python3 monitors.py
"""
import os

import requests

url = os.environ.get("STATUSBOARD_URL", "http://127.0.0.1:8090")
s = requests.Session()
s.headers["Authorization"] = "Bearer " + os.environ["STATUSBOARD_TOKEN"]

r = s.post(url + "/v1/monitors", json={"name": "homepage", "url": "https://example.com", "interval_seconds": 60}, timeout=10)
r.raise_for_status()
mid = r.json()["id"]
print("created", mid)

r = s.get(url + "/v1/monitors", timeout=10)
r.raise_for_status()
print("listed %d monitor(s)" % len(r.json()["monitors"]))

r = s.get(url + "/v1/monitors/" + mid, timeout=10)
r.raise_for_status()
print("got %s: %s" % (r.json()["name"], r.json()["url"]))

s.delete(url + "/v1/monitors/" + mid, timeout=10).raise_for_status()
print("deleted", mid)

# Without a token: 401, keyward's error body, the verdict in X-Keyward-Code.
r = requests.get(url + "/v1/monitors", timeout=10)
print("refused without a token:", r.status_code, r.headers["X-Keyward-Code"])
print("verdict %s: %s" % (r.json()["verdict"], r.json()["message"]))
