package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// clock is a controllable time for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// answer is one response of the server, read whole.
type answer struct {
	method, path string
	status       int
	header       http.Header
	body         []byte
	// sent is the request's JSON body, nil for none.
	sent []byte
}

// env is the whole API server over a service on a fresh SQLite file, with
// a bootstrapped owner of the org "acme".
type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *service.Service
	store service.Store
	clock *clock
	srv   *httptest.Server
	boot  *service.BootstrapResult
	owner string // the owner's PAT
	oa    *openAPI
	logs  *syncBuffer

	mu      sync.Mutex
	answers []*answer
}

// sharedOpenAPI compiles the document once for every test.
var sharedOpenAPI struct {
	once sync.Once
	oa   *openAPI
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, api.Options{})
}

// newEnvWith is newEnv with the server's options (trusted proxies, route
// policy, metrics); the logger and base URL are the test's own.
func newEnvWith(t *testing.T, opts api.Options) *env {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	return newEnvOn(t, store, opts)
}

// newEnvOn is newEnvWith over a store of the test's choosing, which the
// env closes.
func newEnvOn(t *testing.T, store service.Store, opts api.Options) *env {
	t.Helper()
	ctx := context.Background()
	ck := &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := service.New(store, service.Options{
		Now:                ck.Now,
		Logger:             logger,
		ProductPermissions: []string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"},
	})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme"})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	opts.Logger, opts.BaseURL = logger, "https://keys.example.com"
	srv := httptest.NewServer(api.NewServer(svc, opts))
	t.Cleanup(func() {
		srv.Close()
		_ = store.Close()
	})
	sharedOpenAPI.once.Do(func() { sharedOpenAPI.oa = loadOpenAPI(t) })
	return &env{t: t, ctx: ctx, svc: svc, store: store, clock: ck, srv: srv, boot: boot, owner: boot.Secret, oa: sharedOpenAPI.oa, logs: logs}
}

// header is one request header to send.
type header struct{ name, value string }

// bearer is the usual credential header.
func bearer(token string) header { return header{"Authorization", "Bearer " + token} }

// do sends one request with an optional JSON body (a string is sent as
// is) and headers, reads the answer whole, and checks it against
// openapi.json.
func (e *env) do(method, path string, body any, headers ...header) *answer {
	e.t.Helper()
	var rd io.Reader
	var sent []byte
	switch b := body.(type) {
	case nil:
	case string:
		rd, sent = strings.NewReader(b), []byte(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, sent = bytes.NewReader(buf), buf
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		req.Header.Add(h.name, h.value)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	a := &answer{method: method, path: req.URL.Path, status: resp.StatusCode, header: resp.Header, body: b, sent: sent}
	e.mu.Lock()
	e.answers = append(e.answers, a)
	e.mu.Unlock()
	if err := e.oa.check(method, req.URL.Path, a.status, a.header, a.body); err != nil {
		e.t.Errorf("openapi: %v", err)
	}
	return a
}

// as sends a request with token as a Bearer token.
func (e *env) as(token, method, path string, body any) *answer {
	e.t.Helper()
	return e.do(method, path, body, bearer(token))
}

// want fails the test unless the answer has status, and decodes its body
// into v when v is not nil.
func (a *answer) want(t *testing.T, status int, v any) *answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s %s: got status %d, want %d; body: %s", a.method, a.path, a.status, status, a.body)
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Fatalf("%s %s: decoding %s: %v", a.method, a.path, a.body, err)
		}
	}
	return a
}

// wantError fails the test unless the answer is the error body with
// status and code.
func (a *answer) wantError(t *testing.T, status int, code string) errorBody {
	t.Helper()
	var b errorBody
	a.want(t, status, &b)
	if !b.Error || b.Code != code || b.Status != status || b.Message == "" {
		t.Fatalf("%s %s: got error body %s, want code %s and status %d", a.method, a.path, a.body, code, status)
	}
	if got := a.header.Get("Content-Type"); got != "application/json" {
		t.Fatalf("%s %s: got Content-Type %q, want application/json", a.method, a.path, got)
	}
	return b
}

// errorBody mirrors client.ErrorBody with Error as a pointer-free bool.
type errorBody struct {
	Error   bool   `json:"error"`
	Message string `json:"message"`
	Code    string `json:"code"`
	Status  int    `json:"status"`
	Detail  string `json:"detail"`
}

// member adds a user to org (a slug) with role and returns a PAT secret
// for them, made through the operator path.
func (e *env) member(email, org string, role keyward.Role) string {
	e.t.Helper()
	if _, err := e.svc.AdminCreateUser(e.ctx, email, "", "", org, role); err != nil {
		e.t.Fatalf("AdminCreateUser(%s): %v", email, err)
	}
	return e.pat(email, org)
}

// pat mints a PAT for an existing member of org through the operator path.
func (e *env) pat(email, org string) string {
	e.t.Helper()
	_, secret, err := e.svc.AdminCreateToken(e.ctx, email, org, service.TokenRequest{Name: "t"})
	if err != nil {
		e.t.Fatalf("AdminCreateToken(%s): %v", email, err)
	}
	return secret
}

// bodies returns every answer body so far, for searching.
func (e *env) bodies() []*answer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*answer(nil), e.answers...)
}
