package guard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/guard"
	"github.com/keyward/keyward/internal/keywardtest"
)

// resource is a resource server guarded by g.
func resource(g *guard.Guard) http.Handler {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, ok := guard.FromContext(r.Context())
		if !ok {
			http.Error(w, "no identity", http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /monitors", g.Authenticate(guard.RequirePermission("monitors:read")(echo)))
	mux.Handle("POST /monitors", g.Authenticate(guard.RequirePermission("monitors:write")(echo)))
	mux.Handle("GET /monitors/{id}", g.Authenticate(guard.RequirePermission("monitors:read")(
		g.RequireScope("monitor", "read", func(r *http.Request) string { return r.PathValue("id") })(echo))))
	mux.Handle("POST /agent", g.Authenticate(guard.RequireKind("agent")(guard.RequirePermission("agent:heartbeat")(echo))))
	return mux
}

// result is one answer of the resource server.
type result struct {
	status  int
	header  http.Header
	id      guard.Identity
	refusal struct {
		Error   bool   `json:"error"`
		Code    string `json:"code"`
		Status  int    `json:"status"`
		Message string `json:"message"`
		Verdict string `json:"verdict"`
	}
	body string
}

func call(t *testing.T, srv *httptest.Server, method, path string, headers ...string) result {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := result{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, &res.id)
	} else {
		err = json.Unmarshal(b, &res.refusal)
	}
	if err != nil {
		t.Fatalf("%s %s: decoding %q: %v", method, path, b, err)
	}
	return res
}

// wantRefused fails unless res is the error body with status and verdict.
func (res result) wantRefused(t *testing.T, what string, status int, verdict string) {
	t.Helper()
	f := res.refusal
	if res.status != status || f.Status != status || !f.Error || f.Verdict != verdict || res.header.Get(guard.HeaderCode) != verdict || f.Message == "" {
		t.Errorf("%s: got %d %s, want %d with verdict %s", what, res.status, res.body, status, verdict)
	}
	if ct := res.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestGuard(t *testing.T) {
	for _, backend := range keywardtest.Backends {
		t.Run(backend, func(t *testing.T) { testGuard(t, backend) })
	}
}

func testGuard(t *testing.T, backend string) {
	kw := keywardtest.Start(t, backend)
	const ttl = 200 * time.Millisecond
	g := guard.New(kw.Client(kw.VerifierKey(t)), guard.Options{TTL: ttl})
	srv := httptest.NewServer(resource(g))
	defer srv.Close()

	member := kw.Member(t, "member@example.com", keyward.RoleMember)
	viewer := kw.Member(t, "viewer@example.com", keyward.RoleViewer)
	agent := kw.Key(t, client.TokenRequest{Kind: "agent", Name: "agent 1", AgentID: "agent-1"})
	scoped := kw.Key(t, client.TokenRequest{Name: "reader", Role: "viewer",
		Scopes: []client.Scope{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}})

	// A member's token reads and writes, with its identity in the context.
	res := call(t, srv, "GET", "/monitors", bearer(member)...)
	if res.status != 200 || res.id.Kind != "pat" || res.id.Role != "member" || res.id.UserID == "" || res.id.OrgID == "" || !res.id.Has("monitors:read") {
		t.Fatalf("member reads: got %d %s", res.status, res.body)
	}
	if res := call(t, srv, "POST", "/monitors", "X-API-Key", member); res.status != 200 {
		t.Errorf("member writes with X-API-Key: got %d %s", res.status, res.body)
	}
	// A viewer reads but may not write.
	if res := call(t, srv, "GET", "/monitors", bearer(viewer)...); res.status != 200 || res.id.Role != "viewer" {
		t.Errorf("viewer reads: got %d %s", res.status, res.body)
	}
	call(t, srv, "POST", "/monitors", bearer(viewer)...).wantRefused(t, "viewer writes", 403, "INSUFFICIENT_PERMISSIONS")

	// An agent token is admitted on the agent's route only.
	res = call(t, srv, "POST", "/agent", bearer(agent.Secret)...)
	if res.status != 200 || res.id.Kind != "agent" || res.id.AgentID != "agent-1" || res.id.UserID != "" {
		t.Errorf("agent heartbeat: got %d %s", res.status, res.body)
	}
	call(t, srv, "GET", "/monitors", bearer(agent.Secret)...).wantRefused(t, "agent reads monitors", 403, "INSUFFICIENT_PERMISSIONS")
	call(t, srv, "POST", "/agent", bearer(member)...).wantRefused(t, "member on the agent route", 403, "FORBIDDEN")

	// Scopes are checked by keyward, for the entity the request names.
	if res := call(t, srv, "GET", "/monitors/m1", bearer(scoped.Secret)...); res.status != 200 || res.id.Kind != "api_key" {
		t.Errorf("scoped key on its monitor: got %d %s", res.status, res.body)
	}
	call(t, srv, "GET", "/monitors/m2", bearer(scoped.Secret)...).wantRefused(t, "scoped key on another monitor", 403, "FORBIDDEN")
	if res := call(t, srv, "GET", "/monitors/m2", bearer(member)...); res.status != 200 {
		t.Errorf("unscoped token on a monitor: got %d %s", res.status, res.body)
	}

	// No token, a malformed header, an unknown token, a token in the URL.
	call(t, srv, "GET", "/monitors").wantRefused(t, "no token", 401, "NOT_FOUND")
	call(t, srv, "GET", "/monitors", "Authorization", "Basic abc").wantRefused(t, "basic auth", 401, "NOT_FOUND")
	call(t, srv, "GET", "/monitors", bearer("kw_pat_nothing")...).wantRefused(t, "unknown token", 401, "NOT_FOUND")
	call(t, srv, "GET", "/monitors?access_token=x", bearer(member)...).wantRefused(t, "token in the URL", 400, "")

	// A revoked token is refused once its cached verdict ends: within the
	// TTL. The poll is bounded far beyond it.
	rev := kw.Key(t, client.TokenRequest{Name: "to revoke", Role: "viewer"})
	if res := call(t, srv, "GET", "/monitors", bearer(rev.Secret)...); res.status != 200 {
		t.Fatalf("before revocation: got %d %s", res.status, res.body)
	}
	kw.Revoke(t, kw.Client(kw.Owner).Keys(keywardtest.Org), rev.Token.ID)
	deadline := time.Now().Add(100 * ttl)
	for {
		res := call(t, srv, "GET", "/monitors", bearer(rev.Secret)...)
		if res.status == 401 {
			res.wantRefused(t, "revoked", 401, "REVOKED")
			break
		}
		if res.status != 200 || time.Now().After(deadline) {
			t.Fatalf("revoked token still answered %d %s after %v (TTL %v)", res.status, res.body, 100*ttl, ttl)
		}
		time.Sleep(ttl / 10)
	}

	// keyward down: a token the cache does not hold is answered 503.
	kw.Stop()
	res = call(t, srv, "GET", "/monitors", bearer(viewer+"x")...)
	if res.status != 503 || res.refusal.Code != "unavailable" || res.refusal.Status != 503 {
		t.Errorf("keyward down: got %d %s", res.status, res.body)
	}
	time.Sleep(ttl)
	if res := call(t, srv, "GET", "/monitors", bearer(member)...); res.status != 503 {
		t.Errorf("keyward down, after the TTL: got %d %s", res.status, res.body)
	}
}

// fakeKeyward answers every /v1/verify with VALID for tokens starting
// "ok" and NOT_FOUND otherwise, and counts the questions.
func fakeKeyward(t *testing.T) (*httptest.Server, *atomic.Int64) {
	n := new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req client.VerifyRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Error(err)
		}
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasPrefix(req.Token, "ok") {
			fmt.Fprint(w, `{"valid":false,"code":"NOT_FOUND","message":"invalid token","token":null,"role":null,"permissions":[]}`)
			return
		}
		fmt.Fprintf(w, `{"valid":true,"code":"VALID","message":"valid","token":{"id":"tok_%s","kind":"pat","org_id":"org_1"},"role":"member","permissions":["monitors:read"]}`, req.Token)
	}))
	t.Cleanup(srv.Close)
	return srv, n
}

func TestCache(t *testing.T) {
	srv, asked := fakeKeyward(t)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	g := guard.New(client.New(srv.URL, "kw_key_x"), guard.Options{TTL: 5 * time.Second, CacheSize: 2, Now: func() time.Time { return now }})
	ctx := context.Background()
	verify := func(tok, perm string) error {
		_, err := g.Verify(ctx, guard.Query{Token: tok, IP: "192.0.2.1", Permission: perm})
		return err
	}
	if err := verify("ok1", "monitors:read"); err != nil {
		t.Fatal(err)
	}
	if err := verify("ok1", "monitors:write"); err == nil || err.(*guard.Refusal).Verdict != "INSUFFICIENT_PERMISSIONS" {
		t.Fatalf("missing permission from the cache: got %v", err)
	}
	if asked.Load() != 1 {
		t.Fatalf("asked %d times, want 1: the second answer comes from the cache", asked.Load())
	}
	now = now.Add(5 * time.Second)
	_ = verify("ok1", "")
	if asked.Load() != 2 {
		t.Fatalf("asked %d times after the TTL, want 2", asked.Load())
	}
	// Refusals are not cached.
	_ = verify("bad", "")
	_ = verify("bad", "")
	if asked.Load() != 4 {
		t.Fatalf("asked %d times, want 4: refusals are asked each time", asked.Load())
	}
	// An entity question always goes to the server.
	_, _ = g.Verify(ctx, guard.Query{Token: "ok1", Entity: &guard.Entity{Type: "monitor", ID: "m", Operation: "read"}})
	if asked.Load() != 5 {
		t.Fatalf("asked %d times, want 5: an entity is asked each time", asked.Load())
	}
	// The cache is bounded.
	for _, tok := range []string{"ok2", "ok3", "ok4"} {
		_ = verify(tok, "")
	}
	if n := guard.CacheLen(g); n != 2 {
		t.Fatalf("cache holds %d verdicts, want its size 2", n)
	}
}

// The client's address, read past the trusted proxies, is what keyward
// checks a token's allowlist against; the cache keeps verdicts per
// address.
func TestClientIP(t *testing.T) {
	kw := keywardtest.Start(t, "sqlite")
	g := guard.New(kw.Client(kw.VerifierKey(t)), guard.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	srv := httptest.NewServer(resource(g))
	defer srv.Close()
	pinned := kw.Key(t, client.TokenRequest{Name: "office", Role: "viewer", AllowedCIDRs: []string{"192.0.2.0/24"}}).Secret
	if res := call(t, srv, "GET", "/monitors", append(bearer(pinned), "X-Forwarded-For", "192.0.2.7")...); res.status != 200 {
		t.Errorf("from the office: got %d %s", res.status, res.body)
	}
	call(t, srv, "GET", "/monitors", append(bearer(pinned), "X-Forwarded-For", "198.51.100.1")...).wantRefused(t, "from elsewhere", 403, "IP_NOT_ALLOWED")
	// Without trusted proxies, the header is the client's to write and
	// counts for nothing: the peer, 127.0.0.1, is not in the allowlist.
	g2 := guard.New(kw.Client(kw.VerifierKey(t)), guard.Options{})
	srv2 := httptest.NewServer(resource(g2))
	defer srv2.Close()
	call(t, srv2, "GET", "/monitors", append(bearer(pinned), "X-Forwarded-For", "192.0.2.7")...).wantRefused(t, "forged X-Forwarded-For", 403, "IP_NOT_ALLOWED")
}

// A resource server links the guard without keyward's server: no
// service, no storage, no database driver.
func TestGuardIsLight(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, d := range strings.Fields(string(out)) {
		for _, heavy := range []string{"/service", "/sqlstore", "/sqlite", "/postgres", "/database", "/api", "modernc.org/", "github.com/jackc/", "github.com/redis/"} {
			if strings.Contains(d, heavy) {
				t.Errorf("guard links %s", d)
			}
		}
	}
}

// Concurrent misses for one token share one question to keyward.
func TestConcurrentMisses(t *testing.T) {
	var asked atomic.Int64
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"valid":true,"code":"VALID","message":"valid","token":{"id":"tok_1","kind":"pat","org_id":"org_1"},"role":"member","permissions":["monitors:read"]}`)
	}))
	defer srv.Close()
	g := guard.New(client.New(srv.URL, "kw_key_x"), guard.Options{})
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := g.Verify(context.Background(), guard.Query{Token: "ok", Permission: "monitors:read"})
			errs <- err
		}()
	}
	// Wait for the first question, then answer it. A caller that comes
	// while it is pending joins it; one that comes after finds the
	// cached verdict: either way keyward is asked once. The sleep only
	// lets most callers join; the poll is bounded.
	for deadline := time.Now().Add(5 * time.Second); asked.Load() == 0; {
		if time.Now().After(deadline) {
			t.Fatal("keyward was never asked")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := asked.Load(); got != 1 {
		t.Errorf("keyward was asked %d times for %d concurrent misses, want 1", got, n)
	}
}
