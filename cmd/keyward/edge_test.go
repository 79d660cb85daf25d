package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A configuration file with a mistake stops serve before it listens, with
// a message naming the file and the field; so does a bad
// --trusted-proxies.
func TestServeRefusesBadConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "keyward.yaml")
	os.WriteFile(bad, []byte("permissions: [monitors:read]\nroutes:\n  - path: /monitors/*\n    permission: monitors:write\n"), 0o600)
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_ADDR": "127.0.0.1:0"}
	r := runCLI(t, env, "", "serve", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, bad+`: routes[0].permission: unknown permission "monitors:write"`) || strings.Contains(r.stdout, "listening") {
		t.Errorf("bad config: got exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	env["KEYWARD_CONFIG"] = bad
	if r := runCLI(t, env, "", "serve"); r.code != 1 || !strings.Contains(r.stderr, "routes[0].permission") {
		t.Errorf("bad config from KEYWARD_CONFIG: got exit %d, stderr %q", r.code, r.stderr)
	}
	delete(env, "KEYWARD_CONFIG")
	if r := runCLI(t, env, "", "serve", "--trusted-proxies", "10.0.0.0/8,nonsense"); r.code != 2 || !strings.Contains(r.stderr, `"nonsense" is not an address or a CIDR`) {
		t.Errorf("bad --trusted-proxies: got exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "k.db")); err == nil {
		t.Error("a refused configuration created the database")
	}
}

// serve applies the file's route policy and permissions to /v1/auth.
func TestServeWithConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "keyward.yaml")
	os.WriteFile(cfg, []byte("permissions: [monitors:read]\ntrusted_proxies: [127.0.0.1]\nroutes:\n  - path: /monitors/*\n    permission: monitors:read\n"), 0o600)
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_CONFIG": cfg}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, strings.NewReader(""), stdout, stderr)
	}()
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %s", stderr.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	r := runCLI(t, env, "", "-o", "json", "bootstrap", "--email", "ann@example.com", "--org", "Acme")
	if r.code != 0 {
		t.Fatalf("bootstrap: exit %d: %s", r.code, r.stderr)
	}
	secret := bootSecret(t, r.stdout)
	ask := func(uri string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", url+"/v1/auth", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("X-Original-Method", "GET")
		req.Header.Set("X-Original-URI", uri)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := ask("/monitors/1"); got != 200 {
		t.Errorf("a route of the policy: got %d, want 200", got)
	}
	if got := ask("/elsewhere"); got != 403 {
		t.Errorf("no rule: got %d, want 403", got)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/metrics: got %v, %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve: exit %d: %s", code, stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, "route_rules=1") || !strings.Contains(log, "trusted_proxies=1") || strings.Contains(log, secret) {
		t.Errorf("serve log: got %q, want the rule and proxy counts and no token", log)
	}
}

// bootSecret reads the PAT of bootstrap's JSON answer.
func bootSecret(t *testing.T, out string) string {
	t.Helper()
	var boot struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &boot); err != nil || boot.Secret == "" {
		t.Fatalf("bootstrap printed no secret (%v)", err)
	}
	return boot.Secret
}
