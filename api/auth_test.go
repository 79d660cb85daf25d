package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// The server answers malformed credentials with 401 and a message that
// says what is wrong, and a challenge.
const goodToken = "kw_pat_0123456789abcdefghijABCDEFGHIJ012345"

func TestAuthorizationHeaders(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		headers   []header
		status    int
		msg       string
		challenge string
	}{
		{"none", nil, 401, "missing credential", `Bearer realm="keyward"`},
		{"two spaces", []header{{"Authorization", "Bearer  " + e.owner}}, 401, "found two spaces", `Bearer realm="keyward", error="invalid_token"`},
		{"no token", []header{{"Authorization", "Bearer"}}, 401, "found no token", `Bearer realm="keyward", error="invalid_token"`},
		{"basic", []header{{"Authorization", "Basic dXNlcjpwYXNz"}}, 401, `unsupported scheme \"Basic\"`, `Bearer realm="keyward", error="invalid_token"`},
		{"tab", []header{{"Authorization", "Bearer\t" + e.owner}}, 401, "found a tab", `Bearer realm="keyward", error="invalid_token"`},
		{"no scheme", []header{{"Authorization", e.owner}}, 401, "found no scheme", `Bearer realm="keyward", error="invalid_token"`},
		{"two Authorization headers", []header{bearer(e.owner), bearer(e.owner)}, 401, "more than one Authorization header", `Bearer realm="keyward", error="invalid_token"`},
		{"different X-API-Key", []header{bearer(e.owner), {"X-API-Key", goodToken}}, 401, "different tokens", `Bearer realm="keyward", error="invalid_token"`},
		{"two X-API-Key headers", []header{{"X-API-Key", e.owner}, {"X-API-Key", e.owner}}, 401, "more than one X-API-Key", `Bearer realm="keyward", error="invalid_token"`},
		{"made-up token", []header{bearer(goodToken)}, 401, "checksum", `Bearer realm="keyward", error="invalid_token"`},
		{"unknown token", []header{bearer(keyward.FormatToken("kw_pat_", strings.Repeat("a", keyward.SecretLen)))}, 401, "invalid token", `Bearer realm="keyward", error="invalid_token"`},
		{"lower-case scheme", []header{{"Authorization", "bearer " + e.owner}}, 200, "", ""},
		{"X-API-Key", []header{{"X-API-Key", e.owner}}, 200, "", ""},
		{"both, same token", []header{bearer(e.owner), {"X-API-Key", e.owner}}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.do("GET", "/v1/whoami", nil, tt.headers...)
			if tt.status == 200 {
				var who client.Whoami
				a.want(t, 200, &who)
				if who.User == nil || who.User.Email != "owner@example.com" {
					t.Fatalf("got user %+v, want the owner", who.User)
				}
				return
			}
			a.wantError(t, tt.status, "unauthorized")
			if !strings.Contains(string(a.body), tt.msg) {
				t.Errorf("got body %s, want it to say %q", a.body, tt.msg)
			}
			if strings.Contains(string(a.body), e.owner) {
				t.Errorf("the answer repeats the token")
			}
			if got := a.header.Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("got WWW-Authenticate %q, want %q", got, tt.challenge)
			}
		})
	}
}

// A token in the query string is refused before anything else, even
// alongside a valid header, and never accepted.
func TestTokenInURL(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{
		"/v1/whoami?token=" + e.owner,
		"/v1/whoami?access_token=" + e.owner,
		"/v1/whoami?api_key=" + e.owner,
		"/v1/whoami?key=" + e.owner,
		"/v1/whoami?limit=1&Access_Token=" + e.owner,
		"/v1/whoami?%74oken=" + e.owner,
		"/v1/tokens?status=all;token=" + e.owner,
		"/v1/orgs/acme/members?token=",
		"/v1/no-such-route?token=" + e.owner,
		"/healthz?token=" + e.owner,
	} {
		for _, headers := range [][]header{nil, {bearer(e.owner)}} {
			a := e.do("GET", path, nil, headers...)
			a.wantError(t, http.StatusBadRequest, "token_in_url")
			if strings.Contains(string(a.body), e.owner) {
				t.Errorf("GET %s: the answer repeats the token", path)
			}
		}
	}
	if strings.Contains(e.logs.String(), e.owner) {
		t.Error("the logs hold the token")
	}
	// Other parameters pass.
	e.as(e.owner, "GET", "/v1/tokens?status=all&tokens=1&keys=2", nil).want(t, 200, nil)
}

// Tokens minted through the CLI record the source "cli", others "api".
func TestSourceFromUserAgent(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct{ ua, want string }{
		{"keyward-cli/1.2.3", "cli"},
		{"curl/8.0", "api"},
		{"Keyward-CLI/1", "api"},
	} {
		var got client.TokenSecret
		e.do("POST", "/v1/tokens", client.TokenRequest{Name: "ua"}, bearer(e.owner), header{"User-Agent", tt.ua}).want(t, 201, &got)
		if got.Token.Source != tt.want {
			t.Errorf("User-Agent %q: got source %q, want %q", tt.ua, got.Token.Source, tt.want)
		}
	}
}
