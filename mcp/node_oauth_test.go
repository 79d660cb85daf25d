package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The OAuth tests run real OAuth clients against the real keyward binary:
// the MCP TypeScript SDK's client completes the whole flow with its own
// auth code, and the MCP conformance suite checks the authorization
// server. The consent is given through keyward's real sign-in and consent
// forms, over HTTP, by the owner with the password 'keyward bootstrap'
// printed: no test-only sign-in.

// redactOAuth is redact, with authorization codes hidden too.
func (e *nodeEnv) redactOAuth(s string) string {
	return regexp.MustCompile(`([?&]code=)[^&\s"']+`).ReplaceAllString(e.redact(s), "${1}[code]")
}

// oauthClient runs oauth-client.mjs: the TypeScript SDK's client, given no
// credential, discovers the authorization server from the 401, registers,
// sends the owner through sign-in and consent, exchanges the code and
// calls tools with the access token. The test then finds the token through
// the API with the owner's PAT, revokes it there, and the script's next
// MCP call is refused.
func (e *nodeEnv) oauthClient(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.node, filepath.Join(e.dir, "oauth-client.mjs"))
	cmd.Env = append(os.Environ(), "KEYWARD_MCP_URL="+e.url+"/mcp", "KEYWARD_EMAIL=owner@example.com", "KEYWARD_PASSWORD="+e.password)
	var errOut syncBuffer
	cmd.Stderr = &errOut
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting oauth-client.mjs: %v", err)
	}
	defer func() { _ = cmd.Wait() }()
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	readLine := func(what string) []byte {
		t.Helper()
		if !lines.Scan() {
			_ = stdin.Close()
			_ = cmd.Wait()
			t.Fatalf("oauth-client.mjs printed no %s: exit %d\n%s", what, cmd.ProcessState.ExitCode(), e.redactOAuth(errOut.String()))
		}
		line := lines.Bytes()
		if bytes.Contains(line, []byte(e.password)) || bytes.Contains(line, []byte(e.owner)) || regexp.MustCompile(`kw_[a-z]{3}_[0-9A-Za-z]{8}`).Match(line) {
			t.Fatal("oauth-client.mjs printed a secret")
		}
		return slices.Clone(line)
	}

	var seen struct {
		ConnectWithoutToken  string
		Discovery            []string
		ClientID             string
		ClientIDIssuedAt     bool
		AuthorizationRequest struct {
			Path, ResponseType, CodeChallengeMethod, RedirectURI, Resource string
			ClientIDMatches, HasState                                      bool
			CodeChallengeLength                                            int
		}
		AuthorizeStatus       int
		SigninPath            string
		SigninNextIsAuthorize bool
		SigninFormFields      []string
		SigninStatus          int
		SigninSentTo          string
		ConsentStatus         int
		ConsentTitle          string
		ConsentFields         []string
		DecisionStatus        int
		Redirect              struct {
			To, Iss               string
			Error                 *string
			HasCode, StateMatches bool
		}
		Token struct {
			Prefix, Type string
			ExpiresIn    int
			HasRefresh   bool
		}
		TokenRequest []string
		Whoami       struct{ Email, Role, Org, TokenID, TokenSource, TokenKind string }
		Listed       struct {
			HasOwn             bool
			Source, SourceName string
		}
		SecretShown bool
	}
	first := readLine("first report")
	if err := json.Unmarshal(first, &seen); err != nil {
		t.Fatalf("oauth-client.mjs output: %v\n%s", err, e.redactOAuth(string(first)))
	}
	fail := func(what string, got any) { t.Errorf("%s: got %+v", what, got) }

	// Discovery: the 401, the protected resource metadata it names, RFC
	// 8414 metadata, dynamic registration.
	if seen.ConnectWithoutToken != "unauthorized" || !slices.Equal(seen.Discovery, []string{
		"POST /mcp 401", "GET /.well-known/oauth-protected-resource/mcp 200",
		"GET /.well-known/oauth-authorization-server 200", "POST /oauth/register 201",
	}) {
		fail("discovery and registration", []any{seen.ConnectWithoutToken, seen.Discovery})
	}
	if !strings.HasPrefix(seen.ClientID, "dcr_") || !seen.ClientIDIssuedAt {
		fail("the registered client", seen.ClientID)
	}
	ar := seen.AuthorizationRequest
	if ar.Path != "/oauth/authorize" || ar.ResponseType != "code" || !ar.ClientIDMatches || ar.CodeChallengeMethod != "S256" ||
		ar.CodeChallengeLength != 43 || ar.RedirectURI != "http://127.0.0.1:9/callback" || ar.Resource != e.url+"/mcp" || !ar.HasState {
		fail("the authorization request", ar)
	}
	// The person's way: to sign-in and back, the consent page, allow.
	if seen.AuthorizeStatus != http.StatusSeeOther || seen.SigninPath != "/signin" || !seen.SigninNextIsAuthorize ||
		!slices.Equal(seen.SigninFormFields, []string{"csrf", "email", "next", "password"}) ||
		seen.SigninStatus != http.StatusSeeOther || seen.SigninSentTo != "/oauth/authorize" {
		fail("sign-in", []any{seen.AuthorizeStatus, seen.SigninPath, seen.SigninNextIsAuthorize, seen.SigninFormFields, seen.SigninStatus, seen.SigninSentTo})
	}
	if seen.ConsentStatus != http.StatusOK || seen.ConsentTitle != "Allow keyward OAuth test client to use keyward?" ||
		!slices.Contains(seen.ConsentFields, "csrf_token") || !slices.Contains(seen.ConsentFields, "org_id") || seen.DecisionStatus != http.StatusSeeOther {
		fail("consent", []any{seen.ConsentStatus, seen.ConsentTitle, seen.ConsentFields, seen.DecisionStatus})
	}
	if seen.Redirect.To != "http://127.0.0.1:9/callback" || !seen.Redirect.HasCode || !seen.Redirect.StateMatches ||
		seen.Redirect.Iss != e.url || seen.Redirect.Error != nil {
		fail("the redirect back to the client", seen.Redirect)
	}
	// The SDK's code exchange and the token it got.
	if !slices.Equal(seen.TokenRequest, []string{"POST 200"}) || seen.Token.Prefix != "kw_oat_" || seen.Token.Type != "Bearer" ||
		seen.Token.ExpiresIn <= 0 || seen.Token.ExpiresIn > 30*24*3600 || seen.Token.HasRefresh {
		fail("the token exchange", []any{seen.TokenRequest, seen.Token})
	}
	// Tools with the kw_oat_ token, which acts as the owner.
	source := "oauth:" + seen.ClientID
	if seen.Whoami.Email != "owner@example.com" || seen.Whoami.Role != "owner" || seen.Whoami.Org != "acme" ||
		seen.Whoami.TokenKind != "oauth" || seen.Whoami.TokenSource != source || !strings.HasPrefix(seen.Whoami.TokenID, "tok_") {
		fail("whoami with the OAuth token", seen.Whoami)
	}
	if !seen.Listed.HasOwn || seen.Listed.Source != source || !strings.Contains(seen.Listed.SourceName, "keyward OAuth test client") || seen.SecretShown {
		fail("list_tokens with the OAuth token", seen.Listed)
	}
	if t.Failed() {
		return
	}

	// The owner sees the token in the API, named for its client, and
	// revokes it there.
	var list struct {
		Tokens []struct {
			ID, Kind, Source, Status string
			SourceName               string `json:"source_name"`
		}
	}
	e.api(t, "GET", "/v1/tokens", http.StatusOK, &list)
	var found bool
	for _, tok := range list.Tokens {
		if tok.ID == seen.Whoami.TokenID {
			found = true
			if tok.Kind != "oauth" || tok.Source != source || tok.SourceName != "OAuth: keyward OAuth test client ("+seen.ClientID+")" || tok.Status != "active" {
				t.Errorf("GET /v1/tokens: the OAuth token: got %+v", tok)
			}
		}
	}
	if !found {
		t.Fatalf("GET /v1/tokens with the owner's PAT: the OAuth token %s is not listed", seen.Whoami.TokenID)
	}
	var revoked struct{ Status string }
	e.api(t, "POST", "/v1/tokens/"+seen.Whoami.TokenID+"/revoke", http.StatusOK, &revoked)
	if revoked.Status != "revoked" {
		t.Fatalf("revoking the OAuth token: got status %q", revoked.Status)
	}
	if _, err := io.WriteString(stdin, "revoked\n"); err != nil {
		t.Fatal(err)
	}
	var after struct {
		AfterRevoke         string
		AfterRevokeRequests []string
	}
	second := readLine("report after the revocation")
	if err := json.Unmarshal(second, &after); err != nil {
		t.Fatalf("oauth-client.mjs output: %v\n%s", err, e.redactOAuth(string(second)))
	}
	if after.AfterRevoke != "unauthorized" || len(after.AfterRevokeRequests) == 0 || after.AfterRevokeRequests[0] != "POST /mcp 401" {
		t.Errorf("the revoked OAuth token: got %+v, want the first MCP request refused with 401", after)
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("oauth-client.mjs: %v\n%s", err, e.redactOAuth(errOut.String()))
	}
}

// api calls keyward's HTTP API with the owner's PAT and decodes the JSON
// answer into out.
func (e *nodeEnv) api(t *testing.T, method, path string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.owner)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: got %d, want %d: %s", method, path, res.StatusCode, want, e.redact(string(body)))
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
}

// browser is one person at a web browser: a cookie jar, and redirects
// left for the caller to follow.
type browser struct {
	e      *nodeEnv
	client *http.Client
}

func (e *nodeEnv) newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{e: e, client: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends a request (a form when form is not nil) and returns the status,
// the Location header resolved against the request's URL, and the body.
func (b *browser) do(t *testing.T, method, to string, form url.Values) (int, *url.URL, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, to, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", b.e.url)
	}
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var loc *url.URL
	if l := res.Header.Get("Location"); l != "" {
		if loc, err = req.URL.Parse(l); err != nil {
			t.Fatalf("%s %s: Location: %v", method, req.URL.Path, err)
		}
	}
	return res.StatusCode, loc, string(raw)
}

// formFields returns the inputs of the form of page that posts to action,
// as the browser would send them (radio buttons only when checked).
func formFields(t *testing.T, page, action string) url.Values {
	t.Helper()
	m := regexp.MustCompile(`(?s)<form[^>]*action="` + regexp.QuoteMeta(action) + `"[^>]*>(.*?)</form>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form posting to %s on the page", action)
	}
	attr := func(tag, name string) string {
		if a := regexp.MustCompile(`\b` + name + `="([^"]*)"`).FindStringSubmatch(tag); a != nil {
			return html.UnescapeString(a[1])
		}
		return ""
	}
	v := url.Values{}
	for _, tag := range regexp.MustCompile(`<input\b[^>]*>`).FindAllString(m[1], -1) {
		name := attr(tag, "name")
		if name == "" || attr(tag, "type") == "radio" && !strings.Contains(tag, " checked") {
			continue
		}
		v.Add(name, attr(tag, "value"))
	}
	return v
}

// signInAndAllow follows an authorization request as the owner would in a
// browser: sent to sign in, signs in with email and password through the
// real form, comes back to the consent page and allows. It returns where
// keyward sent the browser: the client's redirect URI with the answer.
func (e *nodeEnv) signInAndAllow(t *testing.T, authURL string) *url.URL {
	t.Helper()
	b := e.newBrowser(t)
	status, signin, _ := b.do(t, "GET", authURL, nil)
	if status != http.StatusSeeOther || signin == nil || signin.Path != "/signin" || !strings.HasPrefix(signin.Query().Get("next"), "/oauth/authorize?") {
		t.Fatalf("GET /oauth/authorize signed out: got %d to %v, want 303 to /signin?next=/oauth/authorize?...", status, e.redactOAuth(fmt.Sprint(signin)))
	}
	status, _, page := b.do(t, "GET", signin.String(), nil)
	if status != http.StatusOK {
		t.Fatalf("GET /signin: got %d", status)
	}
	form := formFields(t, page, "/signin")
	form.Set("email", "owner@example.com")
	form.Set("password", e.password)
	status, back, _ := b.do(t, "POST", e.url+"/signin", form)
	if status != http.StatusSeeOther || back == nil || back.Path != "/oauth/authorize" {
		t.Fatalf("POST /signin: got %d to %v, want 303 back to /oauth/authorize", status, e.redactOAuth(fmt.Sprint(back)))
	}
	status, _, page = b.do(t, "GET", back.String(), nil)
	if status != http.StatusOK || !strings.Contains(page, "<h1>Allow ") {
		t.Fatalf("GET /oauth/authorize signed in: got %d, want the consent page", status)
	}
	form = formFields(t, page, "/oauth/authorize")
	if form.Get("csrf_token") == "" || form.Get("org_id") == "" {
		t.Fatalf("the consent form: got fields %v, want csrf_token and org_id", slices.Sorted(func(yield func(string) bool) {
			for k := range form {
				if !yield(k) {
					return
				}
			}
		}))
	}
	form.Set("decision", "allow")
	status, to, _ := b.do(t, "POST", e.url+"/oauth/authorize", form)
	if status != http.StatusSeeOther || to == nil {
		t.Fatalf("POST /oauth/authorize allow: got %d, want 303 to the client", status)
	}
	return to
}

// register registers a public client by dynamic registration and returns
// its id.
func (e *nodeEnv) register(t *testing.T, redirectURI string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"client_name": "MCP conformance suite", "redirect_uris": []string{redirectURI},
		"grant_types": []string{"authorization_code"}, "response_types": []string{"code"}, "token_endpoint_auth_method": "none",
	})
	res, err := http.Post(e.url+"/oauth/register", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /oauth/register: %v", err)
	}
	defer res.Body.Close()
	var got struct {
		ClientID string `json:"client_id"`
	}
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != http.StatusCreated || !strings.HasPrefix(got.ClientID, "dcr_") {
		t.Fatalf("POST /oauth/register: got %d, client %q (%v)", res.StatusCode, got.ClientID, err)
	}
	return got.ClientID
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// conformanceAuthorization runs the conformance suite's authorization
// server scenarios: the metadata endpoint, and the authorization code
// grant. For the grant the suite prints an authorization URL for a person
// to open and waits for the browser to come back to its callback server;
// the test is that person, through keyward's real sign-in and consent
// forms, and then brings the answer to the suite's callback.
func (e *nodeEnv) conformanceAuthorization(t *testing.T) {
	suite := filepath.Join(e.dir, "node_modules", "@modelcontextprotocol", "conformance", "dist", "index.js")
	type check struct{ ID, Status, ErrorMessage string }
	readChecks := func(t *testing.T, outDir string, scenarios int) []check {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(outDir, "*", "checks.json"))
		if len(files) != scenarios {
			t.Fatalf("got %d checks.json files, want %d", len(files), scenarios)
		}
		var all []check
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var checks []check
			if err := json.Unmarshal(b, &checks); err != nil {
				t.Fatal(err)
			}
			all = append(all, checks...)
		}
		return all
	}
	assertChecks := func(t *testing.T, checks []check, want ...string) {
		t.Helper()
		var ids []string
		for _, c := range checks {
			ids = append(ids, c.ID)
			if c.Status != "SUCCESS" {
				t.Errorf("check %s: %s: %s", c.ID, c.Status, e.redactOAuth(c.ErrorMessage))
			}
		}
		slices.Sort(ids)
		if !slices.Equal(ids, want) {
			t.Errorf("checks: got %v, want %v", ids, want)
		}
		t.Logf("%d checks: %v", len(checks), ids)
	}

	t.Run("authorization-server-metadata-endpoint", func(t *testing.T) {
		outDir := t.TempDir()
		out, errOut, code := run(t, 2*time.Minute, []string{"NO_COLOR=1"}, e.node, suite, "authorization",
			"--url", e.url, "--scenario", "authorization-server-metadata-endpoint", "-o", outDir)
		if code != 0 {
			t.Errorf("exit %d\n%s\n%s", code, e.redactOAuth(out), e.redactOAuth(errOut))
		}
		assertChecks(t, readChecks(t, outDir, 1), "authorization-server-metadata", "authorization-server-metadata-cimd")
	})

	t.Run("all/authorization-code-grant", func(t *testing.T) {
		port := freePort(t)
		callback := fmt.Sprintf("http://127.0.0.1:%d/callback", port)
		clientID := e.register(t, callback)
		outDir := t.TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Without --scenario the suite runs both scenarios in turn: the
		// grant reads the authorization endpoint from the metadata one.
		cmd := exec.CommandContext(ctx, e.node, suite, "authorization", "--url", e.url,
			"--client-id", clientID, "--resource", e.url+"/mcp", "--port", fmt.Sprint(port), "-o", outDir)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		var out, errOut syncBuffer
		cmd.Stderr = &errOut
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting the conformance suite: %v", err)
		}
		authURLs := make(chan string, 1)
		copied := make(chan struct{})
		go func() {
			defer close(copied)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				_, _ = out.Write([]byte(line + "\n"))
				if strings.HasPrefix(line, e.url+"/oauth/authorize?") {
					authURLs <- line
				}
			}
		}()
		wait := func() int {
			<-copied
			_ = cmd.Wait()
			return cmd.ProcessState.ExitCode()
		}
		var authURL string
		select {
		case authURL = <-authURLs:
		case <-copied:
			code := wait()
			t.Fatalf("the suite printed no authorization URL: exit %d\n%s\n%s", code, e.redactOAuth(out.String()), e.redactOAuth(errOut.String()))
		case <-ctx.Done():
			t.Fatalf("the suite printed no authorization URL within 2 minutes\n%s", e.redactOAuth(out.String()))
		}
		q, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		if p := q.Query(); p.Get("client_id") != clientID || p.Get("code_challenge_method") != "S256" || p.Get("resource") != e.url+"/mcp" || p.Get("redirect_uri") != callback {
			t.Errorf("the suite's authorization request: got %s", e.redactOAuth(authURL))
		}

		to := e.signInAndAllow(t, authURL)
		if to.Scheme+"://"+to.Host+to.Path != callback || to.Query().Get("code") == "" || to.Query().Get("iss") != e.url {
			t.Errorf("the redirect to the suite: got %s, want %s with code and iss", e.redactOAuth(to.String()), callback)
		}
		res, err := http.Get(to.String())
		if err != nil {
			t.Fatalf("bringing the answer to the suite's callback: %v", err)
		}
		_ = res.Body.Close()
		if code := wait(); code != 0 {
			t.Errorf("exit %d\n%s\n%s", code, e.redactOAuth(out.String()), e.redactOAuth(errOut.String()))
		}
		assertChecks(t, readChecks(t, outDir, 2), "authorization-code-grant", "authorization-server-metadata", "authorization-server-metadata-cimd")
	})
}
