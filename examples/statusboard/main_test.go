package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/keywardtest"
	"github.com/keyward/keyward/internal/testenv"
)

// syncBuffer is a buffer that run writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cacheTTL is the statusboard's cache TTL in the tests.
const cacheTTL = 200 * time.Millisecond

// startStatusboard runs the statusboard as its command line does, in
// front of kw, and returns its base URL.
func startStatusboard(t *testing.T, kw *keywardtest.Server) string {
	t.Helper()
	env := map[string]string{"KEYWARD_API_KEY": kw.VerifierKey(t), "STATUSBOARD_CACHE_TTL": cacheTTL.String()}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--keyward-url", kw.URL}, func(k string) string { return env[k] }, &stdout, &stderr)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	re := regexp.MustCompile(`statusboard listening on (http://\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := re.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v; stderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the statusboard did not start; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answer is one answer of the statusboard.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, token string, body any) answer {
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

func (a answer) want(t *testing.T, what string, status int, v any) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: got %d %s, want %d", what, a.status, a.body, status)
	}
	if v != nil {
		if err := json.Unmarshal(a.body, v); err != nil {
			t.Fatalf("%s: decoding %s: %v", what, a.body, err)
		}
	}
}

// refused fails unless a is keyward's error body with status and verdict.
func (a answer) refused(t *testing.T, what string, status int, verdict string) {
	t.Helper()
	var b struct {
		Error   bool   `json:"error"`
		Status  int    `json:"status"`
		Code    string `json:"code"`
		Verdict string `json:"verdict"`
	}
	a.want(t, what, status, &b)
	if !b.Error || b.Status != status || b.Verdict != verdict || a.header.Get("X-Keyward-Code") != verdict {
		t.Errorf("%s: got %s, want verdict %s", what, a.body, verdict)
	}
}

func TestStatusboard(t *testing.T) {
	for _, backend := range keywardtest.Backends {
		t.Run(backend, func(t *testing.T) { testStatusboard(t, backend) })
	}
}

func testStatusboard(t *testing.T, backend string) {
	kw := keywardtest.Start(t, backend)
	sb := startStatusboard(t, kw)
	member := kw.Member(t, "member@example.com", keyward.RoleMember)
	viewer := kw.Member(t, "viewer@example.com", keyward.RoleViewer)
	agent := kw.Key(t, client.TokenRequest{Kind: "agent", Name: "db host", AgentID: "db-1"}).Secret
	probe := kw.Key(t, client.TokenRequest{Kind: "probe", Name: "eu probe"}).Secret

	// A member creates, lists and gets monitors.
	var m Monitor
	do(t, "POST", sb+"/v1/monitors", member, map[string]any{"name": "home", "url": "https://example.com"}).want(t, "create", 201, &m)
	if m.ID == "" || m.IntervalSeconds != 60 || !strings.HasPrefix(m.CreatedBy, "tok_") {
		t.Errorf("create: got %+v", m)
	}
	var list struct{ Monitors []Monitor }
	do(t, "GET", sb+"/v1/monitors", member, nil).want(t, "list", 200, &list)
	if len(list.Monitors) != 1 || list.Monitors[0].ID != m.ID {
		t.Errorf("list: got %+v", list)
	}
	do(t, "GET", sb+"/v1/monitors/"+m.ID, member, nil).want(t, "get", 200, nil)

	// A viewer reads but may not write.
	do(t, "GET", sb+"/v1/monitors", viewer, nil).want(t, "viewer lists", 200, nil)
	do(t, "POST", sb+"/v1/monitors", viewer, map[string]any{"name": "x", "url": "https://x.example"}).refused(t, "viewer creates", 403, "INSUFFICIENT_PERMISSIONS")
	do(t, "DELETE", sb+"/v1/monitors/"+m.ID, viewer, nil).refused(t, "viewer deletes", 403, "INSUFFICIENT_PERMISSIONS")

	// An agent token reports metrics, and nothing else.
	var met Metrics
	do(t, "POST", sb+"/v1/agents/metrics", agent, map[string]any{"values": map[string]float64{"cpu": 0.5}}).want(t, "heartbeat", 202, &met)
	if met.AgentID != "db-1" || met.Values["cpu"] != 0.5 {
		t.Errorf("heartbeat: got %+v", met)
	}
	do(t, "GET", sb+"/v1/monitors", agent, nil).refused(t, "agent lists monitors", 403, "INSUFFICIENT_PERMISSIONS")
	do(t, "POST", sb+"/v1/agents/metrics", member, map[string]any{"values": map[string]float64{}}).refused(t, "member on the agent route", 403, "FORBIDDEN")
	do(t, "POST", sb+"/v1/agents/metrics", probe, map[string]any{"values": map[string]float64{}}).refused(t, "probe on the agent route", 403, "FORBIDDEN")
	var agents struct{ Agents []Metrics }
	do(t, "GET", sb+"/v1/agents", viewer, nil).want(t, "agents", 200, &agents)
	if len(agents.Agents) != 1 {
		t.Errorf("agents: got %+v", agents)
	}

	// A probe token reports results.
	do(t, "POST", sb+"/v1/probes/results", probe, map[string]any{"monitor_id": m.ID, "ok": true, "latency_ms": 42}).want(t, "report", 202, nil)
	do(t, "POST", sb+"/v1/probes/results", agent, map[string]any{"monitor_id": m.ID, "ok": true}).refused(t, "agent reports", 403, "FORBIDDEN")
	do(t, "GET", sb+"/v1/monitors/"+m.ID, viewer, nil).want(t, "get after report", 200, &m)
	if m.LastResult == nil || !m.LastResult.OK || m.LastResult.LatencyMS != 42 {
		t.Errorf("last result: got %+v", m.LastResult)
	}

	// A key scoped to one monitor gets that one only: keyward decides.
	scoped := kw.Key(t, client.TokenRequest{Name: "one monitor", Role: "viewer",
		Scopes: []client.Scope{{EntityType: "monitor", EntityID: m.ID, Operations: []string{"read"}}}}).Secret
	do(t, "GET", sb+"/v1/monitors/"+m.ID, scoped, nil).want(t, "scoped get", 200, nil)
	do(t, "GET", sb+"/v1/monitors/mon_other", scoped, nil).refused(t, "scoped get of another", 403, "FORBIDDEN")

	do(t, "GET", sb+"/v1/monitors", "", nil).refused(t, "no token", 401, "NOT_FOUND")
	do(t, "DELETE", sb+"/v1/monitors/"+m.ID, member, nil).want(t, "delete", 204, nil)
	do(t, "GET", sb+"/v1/monitors/"+m.ID, member, nil).want(t, "get deleted", 404, nil)

	// A revoked token is refused within the cache's TTL; the poll is
	// bounded far beyond it.
	rev := kw.Key(t, client.TokenRequest{Name: "to revoke", Role: "viewer"})
	do(t, "GET", sb+"/v1/monitors", rev.Secret, nil).want(t, "before revocation", 200, nil)
	kw.Revoke(t, kw.Client(kw.Owner).Keys(keywardtest.Org), rev.Token.ID)
	for deadline := time.Now().Add(100 * cacheTTL); ; {
		a := do(t, "GET", sb+"/v1/monitors", rev.Secret, nil)
		if a.status != 200 {
			a.refused(t, "revoked", 401, "REVOKED")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the revoked token is still admitted after %v (TTL %v)", 100*cacheTTL, cacheTTL)
		}
		time.Sleep(cacheTTL / 10)
	}

	// keyward down: 503, failing closed.
	kw.Stop()
	a := do(t, "GET", sb+"/v1/monitors", "kw_pat_unknown", nil)
	if a.status != 503 || !strings.Contains(string(a.body), `"unavailable"`) {
		t.Errorf("keyward down: got %d %s", a.status, a.body)
	}
	do(t, "GET", sb+"/healthz", "", nil).want(t, "healthz", 200, nil)
}

func TestRunNeedsKeyward(t *testing.T) {
	var stderr bytes.Buffer
	err := run(context.Background(), nil, func(string) string { return "" }, io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), "KEYWARD_API_KEY") {
		t.Fatalf("got %v", err)
	}
}

// TestExamples runs the curl, Python and JavaScript examples of the
// README against a running statusboard.
func TestExamples(t *testing.T) {
	kw := keywardtest.Start(t, "sqlite")
	sb := startStatusboard(t, kw)
	member := kw.Member(t, "member@example.com", keyward.RoleMember)
	examples := []struct {
		file, program string
		// need returns why the example cannot run here, "" when it can.
		need func() string
	}{
		{"monitors.sh", "sh", func() string { return lookPaths("sh", "curl", "jq") }},
		{"monitors.py", "python3", func() string {
			if m := lookPaths("python3"); m != "" {
				return m
			}
			if err := exec.Command("python3", "-c", "import requests").Run(); err != nil {
				return "the Python example needs requests: pip install requests (or apt-get install python3-requests)"
			}
			return ""
		}},
		{"monitors.mjs", "node", func() string { return lookPaths("node") }},
	}
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			if why := ex.need(); why != "" {
				testenv.SkipOrFail(t, why)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, ex.program, filepath.Join("examples", ex.file))
			cmd.Env = append(os.Environ(), "STATUSBOARD_URL="+sb, "STATUSBOARD_TOKEN="+member)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", ex.program, ex.file, err, out)
			}
			for _, want := range []string{"created mon_", "listed 1 monitor(s)", "got homepage: https://example.com", "deleted mon_",
				"refused without a token: 401 NOT_FOUND", "verdict NOT_FOUND: missing credential"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s: output lacks %q:\n%s", ex.file, want, out)
				}
			}
			if strings.Contains(string(out), member) {
				t.Errorf("%s prints the token", ex.file)
			}
		})
	}
}

// lookPaths returns a message naming the first program not on PATH, ""
// when all are.
func lookPaths(programs ...string) string {
	for _, p := range programs {
		if _, err := exec.LookPath(p); err != nil {
			return p + " is not on PATH: the example needs it"
		}
	}
	return ""
}
