package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMountsOAuth checks that 'serve' answers the authorization
// server's metadata with its own URL as the issuer, and that, with no
// dashboard sessions yet, an authorization request goes to sign in.
func TestServeMountsOAuth(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config")}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0"}, func(k string) string { return env[k] }, strings.NewReader(""), stdout, stderr)
	}()
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; {
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
	defer func() {
		cancel()
		<-done
	}()

	resp, err := http.Get(url + "/.well-known/oauth-authorization-server")
	if err != nil {
		t.Fatal(err)
	}
	var meta map[string]any
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || meta["issuer"] != url || meta["registration_endpoint"] != url+"/oauth/register" {
		t.Fatalf("metadata: got %d %v (%v), want issuer %s", resp.StatusCode, meta, err, url)
	}

	body := strings.NewReader(`{"client_name":"test","redirect_uris":["http://127.0.0.1:9/cb"]}`)
	resp, err = http.Post(url+"/oauth/register", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	err = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: got %d %v (%v), want 201", resp.StatusCode, reg, err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noFollow.Get(url + "/oauth/authorize?response_type=code&client_id=" + reg["client_id"].(string) +
		"&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&resource=" + url + "/mcp")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=%2Foauth%2Fauthorize") {
		t.Errorf("authorize signed out: got %d to %q, want 303 to /signin?next=/oauth/authorize...", resp.StatusCode, loc)
	}
}
