package oauth_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/oauth"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// signedInAs is a Sessions in which every request is signed in as one
// user, so that authorization requests reach the consent page.
type signedInAs struct{ user *keyward.User }

func (s signedInAs) SignedIn(*http.Request) (*keyward.User, error) { return s.user, nil }
func (s signedInAs) SignInURL(next string) string                  { return "/signin?next=" + url.QueryEscape(next) }

// lockedBuffer is a log sink for concurrent handlers.
type lockedBuffer struct {
	ch chan struct{}
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.ch <- struct{}{}
	defer func() { <-l.ch }()
	return l.b.String()
}

// FuzzOAuthParams sends fuzzed OAuth parameters to one authorization
// server on SQLite, built once for the fuzz process: the query of GET
// /oauth/authorize, the form of POST /oauth/authorize, /oauth/token and
// /oauth/revoke, and the JSON of POST /oauth/register (client metadata).
// Whatever they hold, the answer is no 5xx, an error never repeats a
// token-like value the request carried (but state, which RFC 6749 sends
// back, and a client_id URL, which the error page names), and no ERROR is
// logged.
func FuzzOAuthParams(f *testing.F) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "keyward.db"))
	if err != nil {
		f.Fatal(err)
	}
	logs := &lockedBuffer{ch: make(chan struct{}, 1)}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	svc, err := service.New(store, service.Options{Logger: logger, ProductPermissions: []string{"monitors:read", "monitors:write"}})
	if err != nil {
		f.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", Name: "Owner", OrgName: "Acme", Password: ownerPassword})
	if err != nil {
		f.Fatal(err)
	}
	client, err := svc.RegisterOAuthClient(ctx, service.OAuthRegistration{Name: "fuzz", RedirectURIs: []string{callback, "http://127.0.0.1/cb"}}, "", "")
	if err != nil {
		f.Fatal(err)
	}
	var root http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { root.ServeHTTP(w, r) }))
	f.Cleanup(func() {
		srv.Close()
		_ = store.Close()
	})
	h, err := oauth.NewHandler(svc, signedInAs{boot.User}, oauth.Options{Issuer: srv.URL, Logger: logger})
	if err != nil {
		f.Fatal(err)
	}
	root = h
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	challenge := strings.Repeat("A", 43)
	good := url.Values{
		"client_id": {client.ID}, "redirect_uri": {callback}, "response_type": {"code"}, "state": {"xyz"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {srv.URL + "/mcp"}, "scope": {"tokens:read"},
	}.Encode()
	type endpoint struct {
		method, path, contentType string
	}
	endpoints := []endpoint{
		{"GET", "/oauth/authorize", ""},
		{"POST", "/oauth/authorize", "application/x-www-form-urlencoded"},
		{"POST", "/oauth/token", "application/x-www-form-urlencoded"},
		{"POST", "/oauth/revoke", "application/x-www-form-urlencoded"},
		{"POST", "/oauth/register", "application/json"},
	}
	for _, s := range []string{
		good, good + "&state=again", strings.Replace(good, "S256", "plain", 1), strings.Replace(good, "code_challenge=", "x=", 1),
		"client_id=" + client.ID + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb", "client_id=https%3A%2F%2F127.0.0.1%2Fc.json&redirect_uri=x",
		"client_id=kw_oc_nope", "%zz", "scope=%00", "scope=" + strings.Repeat("tokens:read+", 200),
	} {
		f.Add(uint8(0), s)
		f.Add(uint8(1), s+"&decision=allow&org=acme&csrf=x")
	}
	for _, s := range []string{
		"grant_type=authorization_code&code=kw_code_0123456789abcdefghijABCDEF&client_id=" + client.ID + "&redirect_uri=" + url.QueryEscape(callback) + "&code_verifier=" + strings.Repeat("v", 43),
		"grant_type=refresh_token", "grant_type=authorization_code&grant_type=authorization_code", "", "code=x", "grant_type=authorization_code&client_id=kw_oc_x",
	} {
		f.Add(uint8(2), s)
	}
	for _, s := range []string{"token=kw_oauth_0123456789abcdefghijABCDEFGHIJ012345&client_id=" + client.ID, "token=", "token=x&token=y", "client_id=" + client.ID} {
		f.Add(uint8(3), s)
	}
	for _, s := range []string{
		`{"redirect_uris":["http://127.0.0.1:1/cb"],"client_name":"x"}`, `{"redirect_uris":["https://evil.example/cb#f"]}`, `{"redirect_uris":[]}`,
		`{"redirect_uris":["http://127.0.0.1/cb"],"grant_types":["client_credentials"]}`, `{"redirect_uris":["javascript:alert(1)"]}`, `null`, `[]`, `{`,
		`{"redirect_uris":["https://a/kw_pat_0123456789abcdefghijABCDEFGHIJ012345x y"]}`, `{"client_name":"` + strings.Repeat("\u202e", 300) + `","redirect_uris":["https://a/b"]}`,
		`{"token_endpoint_auth_method":"client_secret_basic","redirect_uris":["https://a/b"]}`,
	} {
		f.Add(uint8(4), s)
	}

	f.Fuzz(func(t *testing.T, pick uint8, data string) {
		ep := endpoints[int(pick)%len(endpoints)]
		target := srv.URL + ep.path
		var body io.Reader
		if ep.method == "GET" {
			if strings.ContainsAny(data, "# \x7f") || strings.ContainsFunc(data, func(r rune) bool { return r < ' ' }) {
				return // not a request target a client can send
			}
			target += "?" + data
		} else {
			body = strings.NewReader(data)
		}
		req, err := http.NewRequestWithContext(ctx, ep.method, target, body)
		if err != nil {
			return
		}
		if ep.contentType != "" {
			req.Header.Set("Content-Type", ep.contentType)
		}
		before := len(logs.String())
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", ep.method, ep.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		what := fmt.Sprintf("%s %s with %q", ep.method, ep.path, data)
		if resp.StatusCode >= 500 {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, b)
		}
		if resp.StatusCode >= 400 {
			// state goes back to the client (RFC 6749), and the error page
			// names the metadata document a client_id URL points to: both
			// are the client's public values, never a secret.
			public := ""
			if v, err := url.ParseQuery(data); err == nil {
				public = strings.Join(v["state"], " ") + " " + strings.Join(v["client_id"], " ")
			}
			for _, w := range tokenLikeRuns(data) {
				if strings.Contains(public, w) {
					continue
				}
				if strings.Contains(string(b), w) || strings.Contains(resp.Header.Get("Location"), w) {
					t.Fatalf("%s: the answer %d %s repeats %q", what, resp.StatusCode, b, w)
				}
			}
		}
		if logged := logs.String()[before:]; strings.Contains(logged, "level=ERROR") {
			t.Fatalf("%s: logged an ERROR: %s", what, logged)
		}
	})
}

// tokenLikeRuns returns the runs of letters, digits and '_' of 12 or more
// in s that are not a parameter name (lower case and '_' only): what
// could be (part of) a pasted secret.
func tokenLikeRuns(s string) []string {
	if u, err := url.QueryUnescape(s); err == nil {
		s += " " + u
	}
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		if len(f) >= 12 && strings.Trim(f, "abcdefghijklmnopqrstuvwxyz_") != "" {
			out = append(out, f)
		}
	}
	return out
}
