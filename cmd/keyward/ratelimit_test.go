package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/testenv"
)

// startServe runs 'serve' in process on port 0 with env and args, and
// returns its URL; the server stops when the test ends.
func startServe(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), stdout, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop within 20s of its context ending")
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if m := listenLine.FindStringSubmatch(stdout.String()); m != nil {
			return m[1]
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
}

// get sends GET url with an optional Bearer token and returns the answer's
// status and headers.
func get(t *testing.T, url, token string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
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
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// serve takes its limits from flags and the environment, and counts in
// memory or, with --redis-url, in Redis under --redis-prefix.
func TestServeRateLimits(t *testing.T) {
	t.Run("Memory", func(t *testing.T) {
		dir := t.TempDir()
		env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_RATE_LIMIT_IP": "2"}
		url := startServe(t, env, "--rate-limit-token", "3")
		for i, want := range []int{401, 401, 429} {
			status, h := get(t, url+"/v1/whoami", "")
			if status != want || h.Get("X-RateLimit-Limit") != "2" {
				t.Fatalf("request %d without a token: got %d with limit %q, want %d with limit 2", i+1, status, h.Get("X-RateLimit-Limit"), want)
			}
		}
		r := runCLI(t, env, "", "-o", "json", "bootstrap", "--email", "ann@example.com", "--org", "Acme")
		if r.code != 0 {
			t.Fatalf("bootstrap: exit %d, %s", r.code, r.stderr)
		}
		var boot struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &boot); err != nil {
			t.Fatalf("bootstrap output: %v", err)
		}
		for i, want := range []int{200, 200, 200, 429} {
			status, h := get(t, url+"/v1/whoami", boot.Secret)
			if status != want || h.Get("X-RateLimit-Limit") != "3" {
				t.Fatalf("request %d with a token: got %d with limit %q, want %d with limit 3", i+1, status, h.Get("X-RateLimit-Limit"), want)
			}
		}
		// The metrics count each 429 by its budget, and say which keyward
		// this is.
		metrics := scrape(t, url+"/metrics")
		for _, want := range []string{
			`keyward_rate_limited_requests_total{budget="address"} 1`,
			`keyward_rate_limited_requests_total{budget="token"} 1`,
			`keyward_build_info{goversion="` + runtime.Version() + `",version="` + buildVersion() + `"} 1`,
		} {
			if !strings.Contains(metrics, want+"\n") {
				t.Errorf("/metrics has no line %s", want)
			}
		}
	})

	t.Run("Redis", func(t *testing.T) {
		rd := testenv.RedisServer(t)
		env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db"), "KEYWARD_REDIS_URL": rd.URL}
		url := startServe(t, env, "--redis-prefix", rd.Prefix)
		status, h := get(t, url+"/v1/whoami", "")
		if status != 401 || h.Get("X-RateLimit-Limit") != "100" || h.Get("X-RateLimit-Remaining") != "99" {
			t.Fatalf("got %d with limit %q and remaining %q, want 401 with the defaults, 100 and 99",
				status, h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Remaining"))
		}
		keys, err := rd.Keys(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 1 || keys[0] != rd.Prefix+"ip:127.0.0.1" {
			t.Fatalf("got Redis keys %v, want [%sip:127.0.0.1]", keys, rd.Prefix)
		}
	})

	t.Run("Off", func(t *testing.T) {
		env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db")}
		url := startServe(t, env, "--rate-limit-ip", "0")
		if status, h := get(t, url+"/v1/whoami", ""); status != 401 || h.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("got %d with limit %q, want 401 and no limit", status, h.Get("X-RateLimit-Limit"))
		}
	})
}

// Malformed limits and Redis URLs stop serve before it listens.
func TestServeRateLimitMistakes(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"env", map[string]string{"KEYWARD_RATE_LIMIT_TOKEN": "lots"}, nil, "KEYWARD_RATE_LIMIT_TOKEN"},
		{"negative", nil, []string{"--rate-limit-ip", "-1"}, "--rate-limit-ip -1"},
		{"url", nil, []string{"--redis-url", "http://user:hunter2@host/"}, "--redis-url"},
		{"nodes", nil, []string{"--rate-limit-nodes", "0"}, "--rate-limit-nodes 0"},
		{"nodes negative", map[string]string{"KEYWARD_RATE_LIMIT_NODES": "-2"}, nil, "--rate-limit-nodes -2"},
		{"nodes env", map[string]string{"KEYWARD_RATE_LIMIT_NODES": "many"}, nil, "KEYWARD_RATE_LIMIT_NODES=\"many\": want a whole number of nodes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db")}
			for k, v := range c.env {
				env[k] = v
			}
			r := runCLI(t, env, "", append([]string{"serve", "--addr", "127.0.0.1:0"}, c.args...)...)
			if r.code != 2 || !strings.Contains(r.stderr, c.want) || strings.Contains(r.stderr, "hunter2") || strings.Contains(r.stdout, "listening") {
				t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 2 naming %s, before listening", r.code, r.stdout, r.stderr, c.want)
			}
		})
	}
}

// --rate-limit-nodes (or KEYWARD_RATE_LIMIT_NODES, default 2) is how many
// nodes share the Redis budgets: while Redis is down, here from the
// start, each node admits its share, ⌈limit/N⌉, and its headers say so.
func TestServeRateLimitNodes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "redis://" + ln.Addr().String() + "/0"
	ln.Close() // nothing listens there: Redis is down
	for _, c := range []struct {
		name  string
		env   map[string]string
		args  []string
		share int
	}{
		{"default", nil, nil, 3},                                            // ⌈6/2⌉
		{"flag", nil, []string{"--rate-limit-nodes", "3"}, 2},               // ⌈6/3⌉
		{"env", map[string]string{"KEYWARD_RATE_LIMIT_NODES": "4"}, nil, 2}, // ⌈6/4⌉
		{"one", nil, []string{"--rate-limit-nodes", "1"}, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db"), "KEYWARD_REDIS_URL": down, "KEYWARD_RATE_LIMIT_IP": "6"}
			for k, v := range c.env {
				env[k] = v
			}
			url := startServe(t, env, c.args...)
			for i := 1; i <= c.share+1; i++ {
				status, h := get(t, url+"/v1/whoami", "")
				want := 401
				if i > c.share {
					want = 429
				}
				if status != want || h.Get("X-RateLimit-Limit") != strconv.Itoa(c.share) {
					t.Fatalf("request %d with Redis down: got %d with limit %q, want %d with limit %d, this node's share of 6", i, status, h.Get("X-RateLimit-Limit"), want, c.share)
				}
			}
		})
	}
	r := runCLI(t, nil, "", "serve", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--rate-limit-nodes") || !strings.Contains(r.stdout, "$KEYWARD_RATE_LIMIT_NODES") || !strings.Contains(r.stdout, "(default 2)") {
		t.Fatalf("serve --help: exit %d, %q; want --rate-limit-nodes with its variable and default 2", r.code, r.stdout)
	}
}

// scrape returns the body of a GET of url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
