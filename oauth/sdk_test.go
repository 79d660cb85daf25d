package oauth_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/oauth"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// The official MCP Go SDK's client runs its whole authorization flow
// against keyward, as an MCP client does on a 401 from /mcp: discovery,
// registration (dynamic, or by metadata document), PKCE, resource and
// iss checks, and the exchange; the token it gets works on the API.
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
		})
	}
}
