package mcp_test

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

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// env is the MCP handler over a service on a fresh SQLite file, with a
// bootstrapped owner of the org "acme", served by httptest. Every
// response it serves is recorded, to search for secrets.
type env struct {
	t     testing.TB
	ctx   context.Context
	svc   *service.Service
	store interface{ Close() error }
	srv   *httptest.Server
	boot  *service.BootstrapResult
	owner string // the owner's PAT
	logs  *syncBuffer

	mu        sync.Mutex
	responses []recorded
}

// recorded is one response body the server sent, with the tool it called
// (if any).
type recorded struct {
	tool string
	body []byte
}

func newEnv(t testing.TB, opts mcp.Options) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc, err := service.New(store, service.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme"})
	if err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	e := &env{t: t, ctx: ctx, svc: svc, store: store, boot: boot, owner: boot.Secret, logs: logs}
	opts.Logger = logger
	h := mcp.NewHandler(svc, opts)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var msg struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
			} `json:"params"`
		}
		_ = json.Unmarshal(body, &msg)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		e.mu.Lock()
		e.responses = append(e.responses, recorded{tool: msg.Params.Name, body: rec.Body.Bytes()})
		e.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(func() {
		e.srv.Close()
		_ = svc.Close(context.Background())
		_ = store.Close()
	})
	return e
}

// member adds a user to acme with role and returns a PAT for them.
func (e *env) member(email string, role keyward.Role) string {
	e.t.Helper()
	if _, err := e.svc.AdminCreateUser(e.ctx, email, "", "", "acme", role); err != nil {
		e.t.Fatalf("AdminCreateUser(%s): %v", email, err)
	}
	_, secret, err := e.svc.AdminCreateToken(e.ctx, email, "acme", service.TokenRequest{Name: "t"})
	if err != nil {
		e.t.Fatalf("AdminCreateToken(%s): %v", email, err)
	}
	return secret
}

// bearer adds an Authorization header to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connect opens a session of the Go SDK's client with token as Bearer.
func (e *env) connect(token string) (*mcpsdk.ClientSession, error) {
	client := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "keyward-test", Version: "1"}, nil)
	var rt http.RoundTripper = http.DefaultTransport
	if token != "" {
		rt = bearer{token: token, next: rt}
	}
	return client.Connect(e.ctx, &mcpsdk.StreamableClientTransport{
		Endpoint:             e.srv.URL + mcp.Path,
		HTTPClient:           &http.Client{Transport: rt},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
}

// session is connect that must succeed; the session closes with the test.
func (e *env) session(token string) *mcpsdk.ClientSession {
	e.t.Helper()
	cs, err := e.connect(token)
	if err != nil {
		e.t.Fatalf("connecting the Go SDK client: %v", err)
	}
	e.t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// call calls a tool and decodes its structured result into out (when not
// nil). It fails the test on a protocol error; a tool error is returned.
func call(t *testing.T, cs *mcpsdk.ClientSession, tool string, args any, out any) *mcpsdk.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcpsdk.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("calling %s: %v", tool, err)
	}
	if out != nil && !res.IsError {
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s: decoding the structured result: %v", tool, err)
		}
	}
	return res
}

// toolError returns the text of a tool error, failing unless res is one.
func toolError(t *testing.T, tool string, res *mcpsdk.CallToolResult) string {
	t.Helper()
	if !res.IsError {
		t.Fatalf("%s: got a result, want a tool error", tool)
	}
	var texts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcpsdk.TextContent); ok {
			texts = append(texts, tc.Text)
		}
	}
	return strings.Join(texts, "\n")
}

// rawResponse is one raw HTTP answer.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// post sends one JSON-RPC request to /mcp as the 2025-11-25 protocol does,
// with the given headers, and reads the answer whole.
func (e *env) post(body string, headers map[string]string) rawResponse {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.ctx, http.MethodPost, e.srv.URL+mcp.Path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2025-11-25")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	return e.do(req)
}

func (e *env) do(req *http.Request) rawResponse {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// syncBuffer is a bytes.Buffer safe for concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
