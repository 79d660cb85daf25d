package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/testenv"
)

// PostgreSQL behind a TCP proxy that the tests cut: an outage of the
// database as one node sees it, and a partition between one node and a
// database that another node still reaches.

// behindProxy returns a fresh database's URL and the URL of the same
// database through a cuttable proxy.
func behindProxy(t *testing.T) (direct, proxied string, proxy *testenv.Proxy) {
	t.Helper()
	direct = postgresURL(t)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	proxy = testenv.NewProxy(t, u.Host)
	return direct, proxy.URL(t, direct), proxy
}

// call sends one request with a bearer token and an optional JSON body.
func call(t *testing.T, method, url, token string, body any) (int, http.Header, client.ErrorBody) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var e client.ErrorBody
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		_ = json.Unmarshal(b, &e)
	}
	return resp.StatusCode, resp.Header, e
}

// checkUnavailable checks the answer of an outage: 503, Retry-After and
// the unavailable code in the JSON error shape.
func checkUnavailable(t *testing.T, what string, status int, h http.Header, e client.ErrorBody) {
	t.Helper()
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || e.Code != "unavailable" || !e.Error || e.Status != 503 {
		t.Errorf("%s: got %d, Retry-After %q, body %+v; want 503 unavailable with Retry-After", what, status, h.Get("Retry-After"), e)
	}
}

// metric reads one metric of the server at base.
func metric(t *testing.T, base, name string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no metric %s in /metrics", name)
	}
	return string(m[1])
}

// count counts the log lines at level that match msg ("" for all).
func count(logs, level, msg string) int {
	n := 0
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "level="+level) && strings.Contains(l, msg) {
			n++
		}
	}
	return n
}

// TestOutagePostgres cuts a node off from PostgreSQL: mints answer 503
// unavailable with Retry-After, a cached token still verifies, /readyz
// answers 503, and the log holds one WARN and no ERROR; once the database
// is back, one INFO, and mints work.
func TestOutagePostgres(t *testing.T) {
	direct, proxied, proxy := behindProxy(t)
	h := newHarness(t, proxied)
	h.ok("", "migrate", "--database-url", direct)
	h.start()
	var boot struct {
		Secret string `json:"secret"`
	}
	h.okJSON(&boot, "", "bootstrap", "--database-url", direct, "--email", "owner@example.com", "--org", "Acme")
	if got := whoamiStatus(t, h.url, boot.Secret); got != http.StatusOK {
		t.Fatalf("whoami before the outage: %d", got)
	}
	mint := map[string]any{"name": "ci"}
	if status, _, e := call(t, "POST", h.url+"/v1/tokens", boot.Secret, mint); status != http.StatusCreated {
		t.Fatalf("mint before the outage: %d %+v", status, e)
	}
	// A token this node has not cached: its verification needs the
	// database.
	var unused client.TokenSecret
	h.okJSON(&unused, boot.Secret, "token", "create", "--name", "unused")
	before := len(h.logs.String())

	proxy.Cut()
	for i := range 5 {
		status, hd, e := call(t, "POST", h.url+"/v1/tokens", boot.Secret, mint)
		checkUnavailable(t, "mint during the outage", status, hd, e)
		if got := whoamiStatus(t, h.url, boot.Secret); got != http.StatusOK {
			t.Errorf("cached token during the outage (%d): got %d, want 200", i, got)
		}
	}
	status, hd, e := call(t, "GET", h.url+"/readyz", "", nil)
	checkUnavailable(t, "/readyz during the outage", status, hd, e)
	probeFrontEnds(t, h.url, unused.Secret)
	// The follower's and listener's retries, and a usage flush (every 5 s).
	time.Sleep(6 * time.Second)
	during := h.logs.String()[before:]
	if n := count(during, "WARN", ""); n != 1 || count(during, "WARN", "the database is unavailable") != 1 {
		t.Errorf("%d WARN lines during the outage, want the one that says so:\n%s", n, during)
	}
	if n := count(during, "ERROR", ""); n != 0 {
		t.Errorf("%d ERROR lines during the outage, want none:\n%s", n, during)
	}

	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, _, e := call(t, "POST", h.url+"/v1/tokens", boot.Secret, mint)
		if status == http.StatusCreated {
			break
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("mint after the outage: got %d %+v, want 201 within 15s", status, e)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, _, e := call(t, "GET", h.url+"/readyz", "", nil); status != http.StatusOK {
		t.Errorf("/readyz after the outage: %d %+v", status, e)
	}
	after := h.logs.String()[before:]
	if n := count(after, "INFO", "the database is available again"); n != 1 {
		t.Errorf("%d INFO lines saying the database is back, want 1:\n%s", n, after)
	}
	if n := count(after, "ERROR", ""); n != 0 {
		t.Errorf("%d ERROR lines, want none:\n%s", n, after)
	}
	h.stop()
}

// TestPartitionPostgres cuts one node off from PostgreSQL while another,
// still connected, revokes a token: the cut node admits the revoked token
// from its cache until --max-staleness has passed, then refuses
// verification with 503 unavailable (not a verdict) and says so on
// /readyz and /metrics; once restored it applies the revocation.
func TestPartitionPostgres(t *testing.T) {
	const maxStaleness = 2 * time.Second
	direct, proxied, proxy := behindProxy(t)
	first, cut := newHarness(t, direct), newHarness(t, proxied)
	cut.serveArgs = []string{"--max-staleness", maxStaleness.String()}
	first.ok("", "migrate", "--database-url", direct)
	first.start()
	cut.start()
	var boot struct {
		Secret string `json:"secret"`
	}
	first.okJSON(&boot, "", "bootstrap", "--database-url", direct, "--email", "owner@example.com", "--org", "Acme")
	var tok client.TokenSecret
	first.okJSON(&tok, boot.Secret, "token", "create", "--name", "ci")
	if got := whoamiStatus(t, cut.url, tok.Secret); got != http.StatusOK {
		t.Fatalf("cut node, before the partition: got %d, want 200", got)
	}
	var verifier client.TokenSecret
	first.okJSON(&verifier, boot.Secret, "key", "create", "--name", "resource server", "--permission", "tokens:verify")
	verify := func() (int, http.Header, client.ErrorBody) {
		return call(t, "POST", cut.url+"/v1/verify", verifier.Secret, map[string]string{"token": tok.Secret})
	}
	if status, _, e := verify(); status != http.StatusOK {
		t.Fatalf("/v1/verify on the cut node, before the partition: %d %+v", status, e)
	}
	if got := metric(t, cut.url, "keyward_change_feed_stale"); got != "0" {
		t.Errorf("keyward_change_feed_stale before the partition: %s, want 0", got)
	}

	proxy.Cut()
	cutAt := time.Now()
	first.ok(boot.Secret, "token", "revoke", tok.Token.ID)
	var refusedAfter time.Duration
	for {
		status, hd, e := call(t, "GET", cut.url+"/v1/whoami", tok.Secret, nil)
		if status == http.StatusServiceUnavailable {
			refusedAfter = time.Since(cutAt)
			checkUnavailable(t, "revoked token on the cut node past --max-staleness", status, hd, e)
			break
		}
		if status != http.StatusOK {
			t.Fatalf("cut node during the partition: got %d %+v, want 200 (cached) then 503", status, e)
		}
		if time.Since(cutAt) > maxStaleness+time.Second {
			t.Fatalf("cut node still admits the revoked token %s after the partition began (max-staleness %s)", time.Since(cutAt), maxStaleness)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("cut node refused the revoked token %s after the cut (max-staleness %s)", refusedAfter.Round(time.Millisecond), maxStaleness)
	status, hd, e := verify()
	checkUnavailable(t, "/v1/verify on the cut node past --max-staleness", status, hd, e)
	status, hd, e = call(t, "GET", cut.url+"/readyz", "", nil)
	checkUnavailable(t, "/readyz on the cut node", status, hd, e)
	if got := metric(t, cut.url, "keyward_change_feed_stale"); got != "1" {
		t.Errorf("keyward_change_feed_stale during the partition: %s, want 1", got)
	}
	// The connected node is unaffected.
	if got := whoamiStatus(t, first.url, boot.Secret); got != http.StatusOK {
		t.Errorf("connected node during the partition: %d, want 200", got)
	}

	proxy.Restore()
	restoredAt := time.Now()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := whoamiStatus(t, cut.url, tok.Secret)
		if got == http.StatusUnauthorized {
			t.Logf("cut node refused the revoked token as revoked %s after the restore", time.Since(restoredAt).Round(time.Millisecond))
			break
		}
		if got != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("cut node after the partition: got %d, want 503 then 401 within 15s", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := whoamiStatus(t, cut.url, boot.Secret); got != http.StatusOK {
		t.Errorf("owner on the restored node: %d, want 200", got)
	}
	if status, _, e := verify(); status != http.StatusOK {
		t.Errorf("/v1/verify on the restored node: %d %+v, want 200 (a verdict)", status, e)
	}
	if status, _, e := call(t, "GET", cut.url+"/readyz", "", nil); status != http.StatusOK {
		t.Errorf("/readyz on the restored node: %d %+v", status, e)
	}
	if got := metric(t, cut.url, "keyward_change_feed_stale"); got != "0" {
		t.Errorf("keyward_change_feed_stale after the partition: %s, want 0", got)
	}
	logs := cut.logs.String()
	if n := count(logs, "WARN", "behind the change feed for longer"); n != 1 {
		t.Errorf("%d staleness warnings, want 1:\n%s", n, logs)
	}
	if n := count(logs, "INFO", "caught up with the change feed again"); n != 1 {
		t.Errorf("%d catch-up notes, want 1:\n%s", n, logs)
	}
	if n := count(logs, "ERROR", ""); n != 0 {
		t.Errorf("%d ERROR lines on the cut node, want none:\n%s", n, logs)
	}
	first.stop()
	cut.stop()
}

// probeFrontEnds checks that the dashboard, OAuth, MCP and the API answer
// 503 with Retry-After during the outage, in their own error shapes.
func probeFrontEnds(t *testing.T, base, uncached string) {
	t.Helper()
	do := func(method, path, ctype, body string, hdr ...string) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s during the outage: got %d, Retry-After %q, %.200s; want 503 with Retry-After", method, path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
		}
	}
	do("GET", "/", "", "", "Cookie", "kw_session=abcdefabcdefabcdefabcdef")
	do("GET", "/set-password/abcdefabcdefabcdef", "", "")
	do("POST", "/oauth/register", "application/json", `{"redirect_uris":["http://127.0.0.1:9/cb"],"client_name":"x","token_endpoint_auth_method":"none"}`)
	do("POST", "/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=abc&client_id=dcr_abcdefabcdef&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_verifier=abcdefabcdefabcdefabcdefabcdefabcdefabcdefabc&resource=x")
	do("POST", "/mcp", "application/json", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, "Authorization", "Bearer "+uncached, "Accept", "application/json, text/event-stream")
	do("POST", "/v1/verify", "application/json", `{"token":"`+uncached+`"}`, "Authorization", "Bearer "+uncached)
}

// TestPartitionFailOpenPostgres is the partition under
// --stale-verdicts=serve: past --max-staleness the cut node still answers
// from its cache (the revoked token passes: the risk the operator chose),
// but /readyz and keyward_change_feed_stale say it is stale.
func TestPartitionFailOpenPostgres(t *testing.T) {
	const maxStaleness = 2 * time.Second
	direct, proxied, proxy := behindProxy(t)
	first, cut := newHarness(t, direct), newHarness(t, proxied)
	cut.serveArgs = []string{"--max-staleness", maxStaleness.String(), "--stale-verdicts", "serve"}
	first.ok("", "migrate", "--database-url", direct)
	first.start()
	cut.start()
	var boot struct {
		Secret string `json:"secret"`
	}
	first.okJSON(&boot, "", "bootstrap", "--database-url", direct, "--email", "owner@example.com", "--org", "Acme")
	var tok client.TokenSecret
	first.okJSON(&tok, boot.Secret, "token", "create", "--name", "ci")
	if got := whoamiStatus(t, cut.url, tok.Secret); got != http.StatusOK {
		t.Fatalf("cut node, before the partition: got %d, want 200", got)
	}

	proxy.Cut()
	cutAt := time.Now()
	first.ok(boot.Secret, "token", "revoke", tok.Token.ID)
	for metric(t, cut.url, "keyward_change_feed_stale") != "1" {
		if time.Since(cutAt) > maxStaleness+time.Second {
			t.Fatalf("keyward_change_feed_stale still 0 %s after the cut", time.Since(cutAt))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := whoamiStatus(t, cut.url, tok.Secret); got != http.StatusOK {
		t.Errorf("fail-open node past --max-staleness: got %d, want 200 from its cache", got)
	}
	status, hd, e := call(t, "GET", cut.url+"/readyz", "", nil)
	checkUnavailable(t, "/readyz on the stale fail-open node", status, hd, e)

	proxy.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for whoamiStatus(t, cut.url, tok.Secret) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatal("the restored node still admits the revoked token 15s after the restore")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := metric(t, cut.url, "keyward_change_feed_stale"); got != "0" {
		t.Errorf("keyward_change_feed_stale after the partition: %s, want 0", got)
	}
	if n := count(cut.logs.String(), "WARN", "behind the change feed for longer"); n != 1 {
		t.Errorf("%d staleness warnings, want 1:\n%s", n, cut.logs.String())
	}
	first.stop()
	cut.stop()
}
