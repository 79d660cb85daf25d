package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
)

// TestServeInProcess runs 'serve' through run on port 0, as main would,
// bootstraps beside it, uses it through the CLI, and stops it by ending
// its context, as SIGTERM does.
func TestServeInProcess(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "k.db")
	env := map[string]string{"KEYWARD_DATABASE_URL": db, "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config"), "KEYWARD_PREFIX": "acme"}
	getenv := func(k string) string { return env[k] }

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, getenv, strings.NewReader(""), stdout, stderr)
	}()

	var url string
	deadline := time.Now().Add(20 * time.Second)
	for url == "" {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not say where it listens: %s", stderr.String())
		}
	}
	if _, err := client.New(url, "").Health(ctx); err != nil {
		t.Fatalf("healthz: %v", err)
	}
	if r := runCLI(t, env, "", "health", "--url", url); r.code != 0 || !strings.Contains(r.stdout, "is ready") {
		t.Fatalf("keyward health: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	r := runCLI(t, env, "", "-o", "json", "bootstrap", "--email", "ann@example.com", "--org", "Acme")
	if r.code != 0 {
		t.Fatalf("bootstrap: exit %d, %s", r.code, r.stderr)
	}
	var boot struct {
		Secret   string `json:"secret"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &boot); err != nil || !strings.HasPrefix(boot.Secret, "acme_pat_") || boot.Password == "" {
		t.Fatalf("bootstrap: got %q (%v), want an acme_pat_ secret and a generated password", r.stdout, err)
	}
	env["KEYWARD_URL"], env["KEYWARD_TOKEN"] = url, boot.Secret
	if r := runCLI(t, env, "", "token", "create", "--name", "in-process"); r.code != 0 || !strings.HasPrefix(r.stdout, "acme_pat_") {
		t.Fatalf("token create: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if r := runCLI(t, env, "", "whoami"); r.code != 0 || !strings.Contains(r.stdout, "ann@example.com") {
		t.Fatalf("whoami: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	// The dashboard sits at / beside the API.
	for _, c := range []struct{ path, ctype string }{
		{"/signin", "text/html"},
		{"/openapi.json", "application/json"},
		{"/v1/no-such-endpoint", "application/json"},
	} {
		resp, err := http.Get(url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", c.path, resp.Header.Get("Content-Type"), c.ctype)
		}
	}

	// /metrics has the verification cache's and the change feed's: token
	// create and whoami were two verifications of one token. The first
	// misses; the second is a hit unless the change entry of bootstrap's
	// mint, written by another process and found by the next poll of the
	// feed, evicted the token between them.
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	metric := func(name string) int {
		m := regexp.MustCompile(`(?m)^` + name + ` (\d+)$`).FindStringSubmatch(string(body))
		if m == nil {
			t.Fatalf("/metrics: no %s", name)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	hits, misses := metric("keyward_verify_cache_hits_total"), metric("keyward_verify_cache_misses_total")
	if misses < 1 || hits+misses != 2 {
		t.Errorf("/metrics: %d cache hits and %d misses, want 2 verifications, the first a miss", hits, misses)
	}
	for _, want := range []string{"keyward_verify_cache_entries", "keyward_change_feed_applied_seq", "keyward_change_feed_lag_seconds", "keyward_change_feed_pruned_resets_total 0", "keyward_usage_unwritten_tokens"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics: no %q", want)
		}
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve: got exit %d after shutdown, want 0; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20s of its context ending")
	}
	if log := stderr.String(); !strings.Contains(log, "keyward stopped") || strings.Contains(log, boot.Secret) {
		t.Errorf("serve log: got %q, want a clean stop and no token", log)
	}
}

// A change-feed retention that is malformed or too short stops serve
// before it listens.
func TestServeChangeRetentionMistakes(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
	}{
		{"short", nil, []string{"--change-retention", "10s"}},
		{"malformed", nil, []string{"--change-retention", "soon"}},
		{"env", map[string]string{"KEYWARD_CHANGE_RETENTION": "-1h"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db")}
			for k, v := range c.env {
				env[k] = v
			}
			r := runCLI(t, env, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, "--change-retention") || strings.Contains(r.stdout, "listening") {
				t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 2 naming --change-retention, before listening", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestServeStalenessMistakes(t *testing.T) {
	for _, c := range []struct {
		name, flag string
		args       []string
	}{
		{"malformed", "--max-staleness", []string{"--max-staleness", "soon"}},
		{"negative", "--max-staleness", []string{"--max-staleness", "-1s"}},
		{"verdicts", "--stale-verdicts", []string{"--stale-verdicts", "maybe"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db")}
			r := runCLI(t, env, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.flag) || strings.Contains(r.stdout, "listening") {
				t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 2 naming %s, before listening", r.code, r.stdout, r.stderr, c.flag)
			}
		})
	}
}
