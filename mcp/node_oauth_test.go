package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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
// auth code. The consent is given through keyward's real sign-in and consent
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
