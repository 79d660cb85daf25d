package oauth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/oauth"
	"github.com/modelcontextprotocol/go-sdk/auth"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// The official MCP Go SDK's client runs its whole authorization flow
// against keyward, as an MCP client does on a 401 from /mcp: discovery,
// registration (dynamic, or by metadata document), PKCE, resource and
// iss checks, and the exchange; the token it gets works on the API, and
// the SDK's MCP client calls keyward's tools at /mcp with it.
func TestMCPSDKClient(t *testing.T) {
	meta := newMetadataServer(t, "SDK by document")
	e := newEnv(t, func(o *oauth.Options) {
		o.AllowPrivateMetadataHosts = true
		o.MetadataRootCAs = meta.roots()
	})
	for _, tc := range []struct {
		name   string
		config func(*auth.AuthorizationCodeHandlerConfig)
		source string
	}{
		{"dynamic registration", func(c *auth.AuthorizationCodeHandlerConfig) {
			c.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{
				Metadata: &oauthex.ClientRegistrationMetadata{ClientName: "SDK by registration", RedirectURIs: []string{callback}},
			}
		}, "OAuth: SDK by registration (dcr_"},
		{"metadata document", func(c *auth.AuthorizationCodeHandlerConfig) {
			c.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: meta.srv.URL + "/client.json"}
			c.RedirectURL = callback
		}, "OAuth: SDK by document (" + meta.srv.URL + "/client.json)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.signedIn()
			fetch := func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
				p := b.get(args.URL)
				if p.status != http.StatusOK {
					t.Fatalf("the SDK's authorization URL: got %d (%q), want the consent page", p.status, alert(p.body))
				}
				form := consentForm(p.body)
				form.Set("decision", "allow")
				q := b.post("/oauth/authorize", form).location(t).Query()
				return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
			}
			cfg := &auth.AuthorizationCodeHandlerConfig{AuthorizationCodeFetcher: fetch}
			tc.config(cfg)
			h, err := auth.NewAuthorizationCodeHandler(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// The 401 that /mcp answers a request without a token.
			req, err := http.NewRequest(http.MethodPost, e.mcp, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp := &http.Response{
				StatusCode: http.StatusUnauthorized,
				Header:     http.Header{"Www-Authenticate": {`Bearer realm="keyward"`}},
				Body:       io.NopCloser(strings.NewReader("")),
			}
			if err := h.Authorize(e.ctx, req, resp); err != nil {
				t.Fatalf("the SDK's Authorize: %v", err)
			}
			ts, err := h.TokenSource(e.ctx)
			if err != nil || ts == nil {
				t.Fatalf("TokenSource: %v", err)
			}
			tok, err := ts.Token()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.AccessToken, "kw_oat_") || tok.RefreshToken != "" || tok.Type() != "Bearer" {
				t.Fatalf("the SDK's token: got prefix %.7q, a refresh token %t, type %s; want kw_oat_, none, Bearer", tok.AccessToken, tok.RefreshToken != "", tok.Type())
			}
			status, who := e.api(tok.AccessToken, "GET", "/v1/whoami")
			wt, _ := who["token"].(map[string]any)
			if status != http.StatusOK || wt["kind"] != "oauth" {
				t.Fatalf("whoami with the SDK's token: got %d, kind %v; want 200, oauth", status, wt["kind"])
			}
			_, one := e.api(tok.AccessToken, "GET", "/v1/tokens/"+wt["id"].(string))
			if name, _ := one["source_name"].(string); !strings.HasPrefix(name, tc.source) {
				t.Errorf("the SDK's token: got source_name %q, want it to start with %q", name, tc.source)
			}

			// The SDK's MCP client calls keyward's tools with the token.
			cs, err := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "keyward-test", Version: "1"}, nil).Connect(e.ctx, &mcpsdk.StreamableClientTransport{
				Endpoint:             e.mcp,
				HTTPClient:           &http.Client{Transport: withBearer{token: tok.AccessToken}},
				DisableStandaloneSSE: true,
				MaxRetries:           -1,
			}, nil)
			if err != nil {
				t.Fatalf("connecting to /mcp with the SDK's token: %v", err)
			}
			defer cs.Close()
			res, err := cs.CallTool(e.ctx, &mcpsdk.CallToolParams{Name: "whoami"})
			if err != nil || res.IsError {
				t.Fatalf("whoami over MCP with the SDK's token: %v (tool error %t)", err, res != nil && res.IsError)
			}
			raw, _ := json.Marshal(res.StructuredContent)
			var mw struct {
				Token struct{ ID, Kind string } `json:"token"`
			}
			if err := json.Unmarshal(raw, &mw); err != nil || mw.Token.ID != wt["id"] || mw.Token.Kind != "oauth" {
				t.Errorf("whoami over MCP: got token %+v (%v), want %v of kind oauth", mw.Token, err, wt["id"])
			}
		})
	}
}

// withBearer adds an Authorization header to every request.
type withBearer struct{ token string }

func (b withBearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
