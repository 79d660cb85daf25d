// The MCP TypeScript SDK's client against a running keyward, with a
// personal access token as Bearer. It reads KEYWARD_MCP_URL,
// KEYWARD_MCP_TOKEN (an owner's PAT) and KEYWARD_MCP_VIEWER_TOKEN, calls
// every tool, and prints one JSON object saying what it saw. It never
// prints a token: only facts about them.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  extractWWWAuthenticateParams,
  discoverOAuthProtectedResourceMetadata,
} from "@modelcontextprotocol/sdk/client/auth.js";

const url = new URL(process.env.KEYWARD_MCP_URL);
const ownerToken = process.env.KEYWARD_MCP_TOKEN;
const viewerToken = process.env.KEYWARD_MCP_VIEWER_TOKEN;
const secrets = [ownerToken, viewerToken];

// redact removes every token this script has seen from a message.
function redact(s) {
  let out = String(s);
  for (const t of secrets) if (t) out = out.split(t).join("[token]");
  return out.replace(/kw_[a-z]{3}_[0-9A-Za-z]+/g, "[token]");
}

async function connect(token) {
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  const client = new Client({ name: "keyward-sdk-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers } }));
  return client;
}

async function callTool(client, name, args = {}) {
  const res = await client.callTool({ name, arguments: args });
  if (res.isError) throw new Error(`${name}: ${res.content.map((c) => c.text).join(" ")}`);
  return res.structuredContent;
}

async function refusal(fn) {
  try {
    await fn();
    return "accepted";
  } catch (err) {
    return redact(err.message);
  }
}

const seen = {};
const owner = await connect(ownerToken);
seen.protocolVersion = owner.transport.protocolVersion ?? null;
seen.server = owner.getServerVersion()?.name;
seen.tools = (await owner.listTools()).tools.map((t) => t.name).sort();

const who = await callTool(owner, "whoami");
seen.whoami = { email: who.user?.email, role: who.role, org: who.org?.slug };

const created = await callTool(owner, "create_token", { name: "from-typescript", expires_in: "7d" });
secrets.push(created.secret);
seen.created = { prefix: created.secret.slice(0, 7), name: created.token.name, source: created.token.source, status: created.token.status };

const listed = await callTool(owner, "list_tokens", { status: "active" });
const listedText = JSON.stringify(listed);
seen.listed = {
  count: listed.tokens.length,
  hasCreated: listed.tokens.some((t) => t.id === created.token.id),
  secretShown: secrets.some((s) => listedText.includes(s)),
};

const regenerated = await callTool(owner, "regenerate_token", { id: created.token.id });
secrets.push(regenerated.secret);
seen.regenerated = { sameId: regenerated.token.id === created.token.id, newSecret: regenerated.secret !== created.secret, generation: regenerated.token.generation };
seen.oldSecretAfterRegenerate = await refusal(async () => (await connect(created.secret)).close());

const revoked = await callTool(owner, "revoke_token", { id: created.token.id, reason: "typescript test" });
seen.revoked = { status: revoked.status };
seen.revokedSecret = await refusal(async () => (await connect(regenerated.secret)).close());

const audit = await callTool(owner, "list_audit", { target: created.token.id });
seen.auditActions = audit.events.map((e) => e.action);
seen.auditSecretShown = secrets.some((s) => JSON.stringify(audit).includes(s));
await owner.close();

// Without a token: 401 with the challenge; the SDK's own discovery reads
// the protected resource metadata it names.
const res = await fetch(url, {
  method: "POST",
  headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
  body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
});
const challenge = extractWWWAuthenticateParams(res);
const metadata = await discoverOAuthProtectedResourceMetadata(url, { resourceMetadataUrl: challenge.resourceMetadataUrl });
seen.noToken = {
  status: res.status,
  resourceMetadataUrl: challenge.resourceMetadataUrl?.href ?? null,
  resource: metadata.resource,
  authorizationServers: metadata.authorization_servers,
  connect: await refusal(async () => (await connect(null)).close()),
};

const viewer = await connect(viewerToken);
seen.viewerWhoami = (await callTool(viewer, "whoami")).role;
seen.viewerAudit = await refusal(() => callTool(viewer, "list_audit"));
await viewer.close();

console.log(JSON.stringify(seen));
