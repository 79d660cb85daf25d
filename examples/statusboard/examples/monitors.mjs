// The statusboard's monitors with fetch (Node 20's global fetch): create,
// list, get, delete, and a request without a token refused.
//   STATUSBOARD_URL=http://127.0.0.1:8090 STATUSBOARD_TOKEN=kw_pat_... node monitors.mjs
const url = process.env.STATUSBOARD_URL ?? "http://127.0.0.1:8090";
const headers = { Authorization: `Bearer ${process.env.STATUSBOARD_TOKEN}` };

async function call(method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: body ? { ...headers, "Content-Type": "application/json" } : headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

const created = await call("POST", "/v1/monitors", { name: "homepage", url: "https://example.com", interval_seconds: 60 });
console.log("created", created.id);

const { monitors } = await call("GET", "/v1/monitors");
console.log(`listed ${monitors.length} monitor(s)`);

const got = await call("GET", `/v1/monitors/${created.id}`);
console.log(`got ${got.name}: ${got.url}`);

await call("DELETE", `/v1/monitors/${created.id}`);
console.log("deleted", created.id);

// Without a token: 401, keyward's error body, the verdict in X-Keyward-Code.
const refused = await fetch(url + "/v1/monitors");
console.log("refused without a token:", refused.status, refused.headers.get("X-Keyward-Code"));
const body = await refused.json();
console.log(`verdict ${body.verdict}: ${body.message}`);
