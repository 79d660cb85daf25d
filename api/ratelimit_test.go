package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/ratelimit/redislimit"
	"github.com/keyward/keyward/service"
)

// newLimitedEnv is newEnv with the API served under rate limits: token and
// ip requests an hour, counted in memory on the env's clock.
func newLimitedEnv(t *testing.T, token, ip int) *env {
	t.Helper()
	e := newEnv(t)
	limits := httplimit.Options{
		Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{Now: e.clock.Now}),
		Token:   token,
		IP:      ip,
	}
	e.srv = httptest.NewServer(api.NewServer(e.svc, api.Options{Logger: slog.New(slog.NewTextHandler(e.logs, nil)), RateLimit: limits}))
	t.Cleanup(e.srv.Close)
	return e
}

// rateHeaders returns an answer's rate limit headers as numbers, failing
// the test unless all three are there.
func rateHeaders(t *testing.T, a *answer) (limit, remaining int, reset int64) {
	t.Helper()
	var err error
	if limit, err = strconv.Atoi(a.header.Get("X-RateLimit-Limit")); err != nil {
		t.Fatalf("%s %s (%d): X-RateLimit-Limit %q: %v", a.method, a.path, a.status, a.header.Get("X-RateLimit-Limit"), err)
	}
	if remaining, err = strconv.Atoi(a.header.Get("X-RateLimit-Remaining")); err != nil {
		t.Fatalf("%s %s (%d): X-RateLimit-Remaining %q: %v", a.method, a.path, a.status, a.header.Get("X-RateLimit-Remaining"), err)
	}
	if reset, err = strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64); err != nil {
		t.Fatalf("%s %s (%d): X-RateLimit-Reset %q: %v", a.method, a.path, a.status, a.header.Get("X-RateLimit-Reset"), err)
	}
	return limit, remaining, reset
}

// wantRate fails the test unless the answer's rate limit headers are
// limit, remaining and reset.
func wantRate(t *testing.T, a *answer, limit, remaining int, reset time.Time) {
	t.Helper()
	l, r, rs := rateHeaders(t, a)
	if l != limit || r != remaining || rs != reset.Unix() {
		t.Fatalf("%s %s (%d): got limit %d, remaining %d, reset %d; want %d, %d, %d",
			a.method, a.path, a.status, l, r, rs, limit, remaining, reset.Unix())
	}
}

// Every answer but the probes' carries the rate limit headers: successes,
// errors of every kind, answers with and without a token.
func TestRateLimitHeadersOnEveryAnswer(t *testing.T) {
	e := newLimitedEnv(t, 50, 40)
	start := e.clock.Now()
	// 50 an hour for a token: each request costs 72 seconds.
	wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil), 50, 49, start.Add(72*time.Second))
	wantRate(t, e.as(e.owner, "GET", "/v1/tokens", nil).want(t, 200, nil), 50, 48, start.Add(144*time.Second))
	// 40 an hour for an address: 90 seconds each.
	wantRate(t, e.do("GET", "/openapi.json", nil).want(t, 200, nil), 40, 39, start.Add(90*time.Second))

	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "ci"}).want(t, 201, nil)
	e.as(e.owner, "GET", "/v1/tokens/tok_doesnotexist", nil).wantError(t, 404, "not_found")
	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": ""}).wantError(t, 400, "invalid_request")
	e.as(e.owner, "GET", "/v1/orgs/acme/members", nil).want(t, 200, nil)
	e.do("GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.as("kw_pat_not-a-token", "GET", "/v1/whoami", nil).wantError(t, 401, "unauthorized")
	e.do("GET", "/v1/whoami?access_token=x", nil).wantError(t, 400, "token_in_url")
	e.as(e.owner, "GET", "/v1/whoami?token=x", nil).wantError(t, 400, "token_in_url")
	e.do("GET", "/v1/nothing-here", nil).wantError(t, 404, "not_found")
	e.as(e.owner, "GET", "/v1/nothing-here", nil).wantError(t, 404, "not_found")
	e.do("PUT", "/v1/whoami", nil).wantError(t, 405, "method_not_allowed")
	e.as(e.owner, "GET", "/openapi.json", nil).want(t, 200, nil)
	for _, a := range e.bodies() {
		rateHeaders(t, a)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		a := e.do("GET", path, nil).want(t, 200, nil)
		for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if v := a.header.Get(h); v != "" {
				t.Errorf("GET %s: got %s %q, want none: probes are not counted", path, h, v)
			}
		}
	}
	// Requests with the owner's token counted against it, the others
	// against the address.
	wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil), 50, 43, start.Add(7*72*time.Second))
	wantRate(t, e.do("GET", "/openapi.json", nil), 40, 30, start.Add(10*90*time.Second))
	// GET /v1/auth as well, asked before every request of a guarded
	// product: its 200 (no body) counts against the token, its refusal
	// against the address.
	wantRate(t, e.do("GET", "/v1/auth", nil, bearer(e.owner)).want(t, 200, nil), 50, 42, start.Add(8*72*time.Second))
	refused := e.do("GET", "/v1/auth", nil, bearer("kw_pat_not-a-token"))
	refused.wantError(t, 401, "unauthorized")
	wantRate(t, refused, 40, 29, start.Add(11*90*time.Second))
}

// A spent budget answers 429 rate_limited with Retry-After, and comes back
// one request at a time.
func TestRateLimitTooManyRequests(t *testing.T) {
	e := newLimitedEnv(t, 3, 100)
	start := e.clock.Now()
	for i := 1; i <= 3; i++ {
		wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil), 3, 3-i, start.Add(time.Duration(i)*20*time.Minute))
	}
	a := e.as(e.owner, "GET", "/v1/whoami", nil)
	b := a.wantError(t, 429, "rate_limited")
	wantRate(t, a, 3, 0, start.Add(time.Hour))
	if got := a.header.Get("Retry-After"); got != "1200" {
		t.Fatalf("Retry-After: got %q, want 1200 (20 minutes)", got)
	}
	if b.Message != "rate limit exceeded" || !strings.Contains(b.Detail, "3 requests an hour") || !strings.Contains(b.Detail, "1200 seconds") {
		t.Fatalf("got error body %s, want a message and a detail with the limit and the wait", a.body)
	}
	if a.header.Get("WWW-Authenticate") != "" {
		t.Errorf("a 429 has WWW-Authenticate %q, want none", a.header.Get("WWW-Authenticate"))
	}
	// Writes are refused too, and change nothing.
	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "refused"}).wantError(t, 429, "rate_limited")
	c, err := e.svc.Authenticate(e.ctx, e.owner, netip.Addr{}, "")
	if err != nil {
		t.Fatal(err)
	}
	toks, _, err := e.svc.FindTokens(e.ctx, c, service.Personal, keyward.TokenFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 1 {
		t.Fatalf("got %d tokens after a refused mint, want 1 (the owner's)", len(toks))
	}
	e.clock.Add(15 * time.Minute)
	a = e.as(e.owner, "GET", "/v1/whoami", nil)
	a.wantError(t, 429, "rate_limited")
	if got := a.header.Get("Retry-After"); got != "300" {
		t.Fatalf("15 minutes later, Retry-After: got %q, want 300", got)
	}
	e.clock.Add(5 * time.Minute)
	wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil), 3, 0, start.Add(80*time.Minute))
	e.as(e.owner, "GET", "/v1/whoami", nil).wantError(t, 429, "rate_limited")
	// Another token has a budget of its own.
	other := e.pat("owner@example.com", "acme")
	wantRate(t, e.as(other, "GET", "/v1/whoami", nil).want(t, 200, nil), 3, 2, e.clock.Now().Add(20*time.Minute))
}

// A token minted with rate_limit has that budget instead of the default,
// and its token object says so.
func TestRateLimitPerTokenOverride(t *testing.T) {
	e := newLimitedEnv(t, 10, 100)
	var minted client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "slow", "rate_limit": 2}).want(t, 201, &minted)
	if minted.Token.RateLimit == nil || *minted.Token.RateLimit != 2 {
		t.Fatalf("minted token: got rate_limit %v, want 2", minted.Token.RateLimit)
	}
	var shown client.Token
	e.as(e.owner, "GET", "/v1/tokens/"+minted.Token.ID, nil).want(t, 200, &shown)
	if shown.RateLimit == nil || *shown.RateLimit != 2 {
		t.Fatalf("stored token: got rate_limit %v, want 2", shown.RateLimit)
	}
	start := e.clock.Now()
	wantRate(t, e.as(minted.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil), 2, 1, start.Add(30*time.Minute))
	wantRate(t, e.as(minted.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil), 2, 0, start.Add(time.Hour))
	a := e.as(minted.Secret, "GET", "/v1/whoami", nil)
	a.wantError(t, 429, "rate_limited")
	if got := a.header.Get("Retry-After"); got != "1800" {
		t.Fatalf("Retry-After: got %q, want 1800", got)
	}
	// The owner's token keeps the default: 2 spent of 10.
	wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil), 10, 7, start.Add(3*6*time.Minute))
	// Regeneration keeps the id, and so the budget.
	e.as(e.owner, "POST", "/v1/tokens/"+minted.Token.ID+"/regenerate", map[string]any{}).want(t, 200, &minted)
	e.as(minted.Secret, "GET", "/v1/whoami", nil).wantError(t, 429, "rate_limited")
	// A negative limit is refused.
	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "bad", "rate_limit": -1}).wantError(t, 400, "invalid_request")
}

// Requests without a token, or with one that fails, count against the
// client address; a valid token does not, and still works when the
// address's budget is spent.
func TestRateLimitByAddress(t *testing.T) {
	e := newLimitedEnv(t, 100, 3)
	start := e.clock.Now()
	a := e.do("GET", "/v1/whoami", nil)
	a.wantError(t, 401, "unauthorized")
	wantRate(t, a, 3, 2, start.Add(20*time.Minute))
	tok, revoked, err := e.svc.AdminCreateToken(e.ctx, "owner@example.com", "acme", service.TokenRequest{Name: "soon revoked"})
	if err != nil {
		t.Fatal(err)
	}
	wantRate(t, e.as(revoked, "GET", "/v1/whoami", nil).want(t, 200, nil), 100, 99, start.Add(36*time.Second))
	e.as(e.owner, "POST", "/v1/tokens/"+tok.ID+"/revoke", map[string]any{}).want(t, 200, nil)
	a = e.as(revoked, "GET", "/v1/whoami", nil)
	a.wantError(t, 401, "unauthorized")
	wantRate(t, a, 3, 1, start.Add(40*time.Minute))
	a = e.do("GET", "/v1/whoami", nil, header{"X-API-Key", "garbage"})
	a.wantError(t, 401, "unauthorized")
	wantRate(t, a, 3, 0, start.Add(time.Hour))

	// Spent: a bad token gets 429, not 401, so guessing stops here.
	a = e.as(revoked, "GET", "/v1/whoami", nil)
	a.wantError(t, 429, "rate_limited")
	if a.header.Get("Retry-After") != "1200" || a.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("got Retry-After %q and WWW-Authenticate %q, want 1200 and none", a.header.Get("Retry-After"), a.header.Get("WWW-Authenticate"))
	}
	e.do("GET", "/v1/whoami", nil).wantError(t, 429, "rate_limited")
	e.do("GET", "/openapi.json", nil).wantError(t, 429, "rate_limited")
	// Routes that authenticate nobody count an unchecked credential
	// against the address too, and refuse it the same way.
	a = e.do("GET", "/openapi.json", nil, bearer("anything"))
	a.wantError(t, 429, "rate_limited")
	wantRate(t, a, 3, 0, start.Add(time.Hour))
	a = e.do("GET", "/v1/nothing-here", nil, bearer("anything"))
	a.wantError(t, 429, "rate_limited")
	// In place of a 405 (which openapi.json does not describe per path).
	req, err := http.NewRequest("PUT", e.srv.URL+"/v1/whoami", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer anything")
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Allow") != "" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("PUT /v1/whoami: got %d with Allow %q and Retry-After %q, want 429 with no Allow and a Retry-After",
			resp.StatusCode, resp.Header.Get("Allow"), resp.Header.Get("Retry-After"))
	}
	// A valid token is not held back by its address (the owner's has
	// revoked one token).
	wantRate(t, e.as(e.owner, "GET", "/v1/whoami", nil).want(t, 200, nil), 100, 98, start.Add(72*time.Second))
}

// IPv4 addresses have a budget each; IPv6 addresses share one per /64.
func TestRateLimitAddressKeys(t *testing.T) {
	e := newEnv(t)
	h := api.NewServer(e.svc, api.Options{RateLimit: httplimit.Options{
		Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{Now: e.clock.Now}),
		Token:   100,
		IP:      2,
	}})
	get := func(remote string) (status, remaining int) {
		r := httptest.NewRequest("GET", "/openapi.json", nil)
		r.RemoteAddr = remote
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		n, err := strconv.Atoi(w.Header().Get("X-RateLimit-Remaining"))
		if err != nil {
			t.Fatalf("%s: X-RateLimit-Remaining %q", remote, w.Header().Get("X-RateLimit-Remaining"))
		}
		return w.Code, n
	}
	for _, c := range []struct {
		remote    string
		status    int
		remaining int
	}{
		{"192.0.2.1:1000", 200, 1},
		{"192.0.2.1:1001", 200, 0},
		{"192.0.2.1:1002", 429, 0},
		{"192.0.2.2:1000", 200, 1},
		{"[::ffff:192.0.2.2]:1000", 200, 0}, // the same address, IPv4-mapped
		{"[2001:db8::1]:443", 200, 1},
		{"[2001:db8::ffff:2]:443", 200, 0}, // the same /64
		{"[2001:db8::3]:443", 429, 0},
		{"[2001:db8:0:1::1]:443", 200, 1}, // another /64
	} {
		status, remaining := get(c.remote)
		if status != c.status || remaining != c.remaining {
			t.Errorf("from %s: got %d with %d remaining, want %d with %d", c.remote, status, remaining, c.status, c.remaining)
		}
	}
}

// Without a limiter there are no limits and no headers.
func TestRateLimitOff(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 150; i++ {
		a := e.do("GET", "/openapi.json", nil)
		if a.status != 200 {
			t.Fatalf("request %d: got %d, want 200", i+1, a.status)
		}
		if v := a.header.Get("X-RateLimit-Limit"); v != "" {
			t.Fatalf("got X-RateLimit-Limit %q, want none", v)
		}
	}
}

// Two nodes (two services and two API servers over one database) that
// share one Redis share each token's budget: N successes across both. Each
// with a limiter of its own enforces the budget on its own: 2N.
func TestRateLimitTwoNodes(t *testing.T) {
	const n = 4
	for _, shared := range []bool{true, false} {
		t.Run(map[bool]string{true: "Redis", false: "PerNode"}[shared], func(t *testing.T) {
			e := newEnv(t)
			var limiters [2]httplimit.Limiter
			if shared {
				rd := testenv.RedisServer(t)
				for i := range limiters {
					l, err := redislimit.Open(rd.URL, redislimit.Options{Prefix: rd.Prefix})
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { l.Close() })
					if err := l.Ping(context.Background()); err != nil {
						t.Fatal(err)
					}
					limiters[i] = l
				}
			} else {
				for i := range limiters {
					limiters[i] = ratelimit.NewMemory(ratelimit.MemoryOptions{})
				}
			}
			var nodes [2]*httptest.Server
			for i := range nodes {
				svc, err := service.New(e.store.(service.Store), service.Options{})
				if err != nil {
					t.Fatal(err)
				}
				nodes[i] = httptest.NewServer(api.NewServer(svc, api.Options{RateLimit: httplimit.Options{Limiter: limiters[i], Token: n, IP: 100}}))
				t.Cleanup(nodes[i].Close)
			}
			secret := e.pat("owner@example.com", "acme")
			ok, limited := 0, 0
			for i := 0; i < 3*n; i++ {
				req, err := http.NewRequest("GET", nodes[i%2].URL+"/v1/whoami", nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					ok++
				case 429:
					limited++
				default:
					t.Fatalf("request %d: got status %d, want 200 or 429", i+1, resp.StatusCode)
				}
			}
			want := 2 * n
			if shared {
				want = n
			}
			if ok != want || limited != 3*n-want {
				t.Fatalf("got %d successes and %d refusals of %d requests across two nodes, want %d successes", ok, limited, 3*n, want)
			}
		})
	}
}

// cutProxy is a TCP proxy to a Redis that a test cuts (closing the
// listener and every connection, so that the next command fails at once)
// and restores on the same address.
type cutProxy struct {
	t      *testing.T
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target, addr: "127.0.0.1:0"}
	p.restore()
	p.addr = p.ln.Addr().String()
	t.Cleanup(p.cut)
	return p
}

func (p *cutProxy) restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close() }()
			go func() { io.Copy(c, u); c.Close() }()
		}
	}()
}

func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// Two nodes sharing one Redis, with --rate-limit-nodes 2, when Redis is
// cut from both: a token of 6 an hour that spent 2 through Redis gets
// ⌊5/2⌋ + ⌊4/2⌋ = 4 more across the two nodes while Redis is down, 6 in
// all, the limit, with X-RateLimit-Limit the node's share, 3; once Redis
// is back the budget is Redis's again, shared: what it had left, 4.
func TestRateLimitRedisCut(t *testing.T) {
	const limit = 6
	e := newEnv(t)
	rd := testenv.RedisServer(t)
	target, err := url.Parse(rd.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, target.Host)
	target.Host = proxy.addr
	var nodes [2]*httptest.Server
	for i := range nodes {
		l, err := redislimit.Open(target.String(), redislimit.Options{Prefix: rd.Prefix, Nodes: 2, Pause: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		svc, err := service.New(e.store.(service.Store), service.Options{})
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = httptest.NewServer(api.NewServer(svc, api.Options{RateLimit: httplimit.Options{Limiter: l, Token: limit, IP: 100}}))
		t.Cleanup(nodes[i].Close)
	}
	secret := e.pat("owner@example.com", "acme")
	call := func(i int) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", nodes[i%2].URL+"/v1/whoami", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("X-RateLimit-Limit")
	}
	// spend calls the nodes in turn until both refuse, and returns the
	// successes, checking each answer's limit.
	spend := func(wantLimit string) int {
		t.Helper()
		ok, refusedInARow := 0, 0
		for i := 0; refusedInARow < 2; i++ {
			if i > 4*limit {
				t.Fatalf("still served after %d requests", i)
			}
			status, lim := call(i)
			if lim != wantLimit {
				t.Fatalf("request %d: got X-RateLimit-Limit %q, want %s", i+1, lim, wantLimit)
			}
			switch status {
			case 200:
				ok++
				refusedInARow = 0
			case 429:
				refusedInARow++
			default:
				t.Fatalf("request %d: got status %d, want 200 or 429", i+1, status)
			}
		}
		return ok
	}
	for i := 0; i < 2; i++ {
		if status, lim := call(i); status != 200 || lim != strconv.Itoa(limit) {
			t.Fatalf("request %d through Redis: got %d with limit %q, want 200 with %d", i+1, status, lim, limit)
		}
	}
	proxy.cut()
	if got := spend("3"); got != 4 {
		t.Fatalf("Redis cut: got %d more successes across two nodes after 2 through Redis, want 4 (%d in all, want %d)", got, got+2, limit)
	}
	proxy.restore()
	time.Sleep(20 * time.Millisecond) // past the limiters' pause
	if got := spend(strconv.Itoa(limit)); got != limit-2 {
		t.Fatalf("Redis back: got %d successes across two nodes, want %d, what Redis had left", got, limit-2)
	}
}
