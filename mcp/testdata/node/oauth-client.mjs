// The MCP TypeScript SDK's client connects to a running keyward with no
// credential and completes the whole OAuth flow with the SDK's own auth
// code: discovery from the 401's resource_metadata, the authorization
// server's RFC 8414 metadata, dynamic client registration, and a PKCE S256
// authorization request for the MCP resource. The consent is given as a
// person would, through keyward's real pages over HTTP: the sign-in form
// (email and password), then the consent form. The SDK then exchanges the
// code and calls tools with the access token it got.
//
// It reads KEYWARD_MCP_URL, KEYWARD_EMAIL and KEYWARD_PASSWORD. It prints
// one JSON line saying what it saw, then waits for a line on standard
// input (the caller revokes the access token meanwhile), calls a tool once
// more with the same token, and prints a second JSON line. It never prints
// a token, a password or a cookie: only facts about them.
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";

const mcpURL = new URL(process.env.KEYWARD_MCP_URL);
const email = process.env.KEYWARD_EMAIL;
const password = process.env.KEYWARD_PASSWORD;
const redirectURI = "http://127.0.0.1:9/callback"; // never listened on: the script reads the Location header
const secrets = [password];

// redact removes every secret this script has seen from a message.
function redact(s) {
  let out = String(s);
  for (const t of secrets) if (t) out = out.split(t).join("[secret]");
  return out.replace(/kw_[a-z]{3}_[0-9A-Za-z]+/g, "[token]");
}

// provider is the SDK's OAuthClientProvider, in memory.
class Provider {
  constructor() {
    this.saved = {};
    this.authorizationURLs = [];
    this.stateValue = "st-" + Math.random().toString(36).slice(2);
  }
  get redirectUrl() {
    return redirectURI;
  }
  get clientMetadata() {
    return {
      client_name: "keyward OAuth test client",
      redirect_uris: [redirectURI],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "none",
    };
  }
  state() {
    return this.stateValue;
  }
  clientInformation() {
    return this.saved.client;
  }
  saveClientInformation(info) {
    this.saved.client = info;
  }
  tokens() {
    return this.saved.tokens;
  }
  saveTokens(tokens) {
    secrets.push(tokens.access_token);
    if (tokens.refresh_token) secrets.push(tokens.refresh_token);
    this.saved.tokens = tokens;
  }
  redirectToAuthorization(url) {
    this.authorizationURLs.push(new URL(url));
  }
  saveCodeVerifier(v) {
    secrets.push(v);
    this.saved.verifier = v;
  }
  codeVerifier() {
    return this.saved.verifier;
  }
}

// The SDK's requests, as the SDK makes them, are recorded (method, path,
// status) to show what it discovered and where.
const sdkRequests = [];
async function recordingFetch(input, init) {
  const res = await fetch(input, init);
  const u = new URL(input instanceof Request ? input.url : input);
  sdkRequests.push({ method: init?.method ?? "GET", path: u.pathname, status: res.status });
  return res;
}

// A browser of one person: a cookie jar and no automatic redirects.
const jar = new Map();
async function browse(url, init = {}) {
  const headers = new Headers(init.headers);
  if (jar.size) headers.set("Cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
  const res = await fetch(url, { ...init, headers, redirect: "manual" });
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(";");
    const i = pair.indexOf("=");
    const name = pair.slice(0, i).trim();
    const value = pair.slice(i + 1).trim();
    secrets.push(value);
    const expired = attrs.some((a) => /^\s*max-age=(0|-)/i.test(a));
    if (expired || value === "") jar.delete(name);
    else jar.set(name, value);
  }
  return res;
}

function unescapeHTML(s) {
  return s
    .replace(/&#(\d+);/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");
}

// formFields returns the named inputs of the first form of html that
// posts to action, with their values.
function formFields(html, action) {
  const m = html.match(new RegExp(`<form[^>]*action="${action}"[^>]*>([\\s\\S]*?)</form>`));
  if (!m) throw new Error(`no form posting to ${action} on the page`);
  const fields = new URLSearchParams();
  for (const input of m[1].matchAll(/<input\b[^>]*>/g)) {
    const name = input[0].match(/\bname="([^"]*)"/)?.[1];
    const value = input[0].match(/\bvalue="([^"]*)"/)?.[1] ?? "";
    const type = input[0].match(/\btype="([^"]*)"/)?.[1];
    if (!name || (type === "radio" && !/\bchecked\b/.test(input[0]))) continue;
    fields.append(unescapeHTML(name), unescapeHTML(value));
  }
  return fields;
}

function location(res, base) {
  const loc = res.headers.get("Location");
  if (!loc) throw new Error(`expected a redirect, got ${res.status}`);
  return new URL(loc, base);
}

// consent signs in and allows the request at authURL, as a person at a
// browser would, and returns where keyward sent the browser back to.
async function consent(authURL, seen) {
  const origin = authURL.origin;
  let res = await browse(authURL);
  const signin = location(res, authURL);
  seen.authorizeStatus = res.status;
  seen.signinPath = signin.pathname;
  seen.signinNextIsAuthorize = (signin.searchParams.get("next") ?? "").startsWith("/oauth/authorize?");

  res = await browse(signin);
  const signinForm = formFields(await res.text(), "/signin");
  seen.signinFormStatus = res.status;
  seen.signinFormFields = [...signinForm.keys()].sort();
  signinForm.set("email", email);
  signinForm.set("password", password);
  res = await browse(new URL("/signin", origin), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
    body: signinForm,
  });
  const back = location(res, origin);
  seen.signinStatus = res.status;
  seen.signinSentTo = back.pathname;

  res = await browse(back);
  const page = await res.text();
  seen.consentStatus = res.status;
  seen.consentTitle = unescapeHTML(page.match(/<h1>([^<]*)<\/h1>/)?.[1] ?? "");
  const decision = formFields(page, "/oauth/authorize");
  seen.consentFields = [...decision.keys()].sort();
  decision.set("decision", "allow");
  res = await browse(new URL("/oauth/authorize", origin), {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: origin },
    body: decision,
  });
  seen.decisionStatus = res.status;
  return location(res, origin);
}

async function callTool(client, name, args = {}) {
  const res = await client.callTool({ name, arguments: args });
  if (res.isError) throw new Error(`${name}: ${res.content.map((c) => c.text).join(" ")}`);
  return res.structuredContent;
}

const seen = {};
try {
  const provider = new Provider();
  const first = new StreamableHTTPClientTransport(mcpURL, { authProvider: provider, fetch: recordingFetch });
  try {
    await new Client({ name: "keyward-oauth-test", version: "1.0.0" }).connect(first);
    seen.connectWithoutToken = "accepted";
  } catch (err) {
    seen.connectWithoutToken = err instanceof UnauthorizedError ? "unauthorized" : redact(err.message);
  }
  seen.discovery = sdkRequests.map((r) => `${r.method} ${r.path} ${r.status}`);
  seen.clientIdPrefix = provider.saved.client?.client_id?.slice(0, 4) ?? null;
  seen.clientId = provider.saved.client?.client_id ?? null;
  seen.clientIdIssuedAt = typeof provider.saved.client?.client_id_issued_at === "number";

  const authURL = provider.authorizationURLs[0];
  if (!authURL) throw new Error("the SDK did not ask to open an authorization URL");
  const q = authURL.searchParams;
  seen.authorizationRequest = {
    path: authURL.pathname,
    responseType: q.get("response_type"),
    clientIdMatches: q.get("client_id") === seen.clientId,
    codeChallengeMethod: q.get("code_challenge_method"),
    codeChallengeLength: (q.get("code_challenge") ?? "").length,
    redirectUri: q.get("redirect_uri"),
    resource: q.get("resource"),
    hasState: q.get("state") === provider.stateValue,
  };

  const back = await consent(authURL, seen);
  seen.redirect = {
    to: back.origin + back.pathname,
    hasCode: (back.searchParams.get("code") ?? "") !== "",
    stateMatches: back.searchParams.get("state") === provider.stateValue,
    iss: back.searchParams.get("iss"),
    error: back.searchParams.get("error"),
  };
  const code = back.searchParams.get("code");
  secrets.push(code);

  await first.finishAuth(code);
  const tokens = provider.tokens();
  seen.token = {
    prefix: tokens?.access_token?.slice(0, 7) ?? null,
    type: tokens?.token_type ?? null,
    expiresIn: tokens?.expires_in ?? null,
    hasRefresh: Boolean(tokens?.refresh_token),
  };
  seen.tokenRequest = sdkRequests.filter((r) => r.path === "/oauth/token").map((r) => `${r.method} ${r.status}`);

  const client = new Client({ name: "keyward-oauth-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(mcpURL, { authProvider: provider, fetch: recordingFetch }));
  const who = await callTool(client, "whoami");
  seen.whoami = { email: who.user?.email, role: who.role, org: who.org?.slug, tokenId: who.token?.id, tokenSource: who.token?.source, tokenKind: who.token?.kind };
  const listed = await callTool(client, "list_tokens", { status: "active" });
  const mine = listed.tokens.find((t) => t.id === who.token?.id);
  seen.listed = { count: listed.tokens.length, hasOwn: Boolean(mine), source: mine?.source, sourceName: mine?.source_name };
  seen.secretShown = JSON.stringify([who, listed]).includes(tokens.access_token);
  await client.close();
  console.log(JSON.stringify(seen));

  // The caller revokes the token through the API, then says so.
  const rl = createInterface({ input: process.stdin });
  for await (const _ of rl) break;
  rl.close();
  const after = {};
  const before = sdkRequests.length;
  try {
    const again = new Client({ name: "keyward-oauth-test", version: "1.0.0" });
    await again.connect(new StreamableHTTPClientTransport(mcpURL, { authProvider: provider, fetch: recordingFetch }));
    await callTool(again, "whoami");
    after.afterRevoke = "accepted";
  } catch (err) {
    after.afterRevoke = err instanceof UnauthorizedError ? "unauthorized" : redact(err.message);
  }
  after.afterRevokeRequests = sdkRequests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`);
  console.log(JSON.stringify(after));
  process.exit(0);
} catch (err) {
  console.log(JSON.stringify(seen));
  console.error(redact(err.stack ?? err));
  process.exit(1);
}
