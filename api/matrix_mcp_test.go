package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/mcp"
	mcpsdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// mcpArguments are the arguments tried on each MCP tool, as the matrix
// tries bodies on a route; {id} is a target token. A tool without an
// entry fails the matrix.
var mcpArguments = map[string][]string{
	mcp.ToolWhoami:     {`{}`},
	mcp.ToolListTokens: {`{}`},
	mcp.ToolCreateToken: {`{"name": "m"}`, `{"name": "m", "permissions": ["tokens:read", "tokens:write", "audit:read", "monitors:write"]}`,
		`{"name": "m", "allowed_cidrs": ["0.0.0.0/0"]}`},
	mcp.ToolRevokeToken:     {`{"id": "{id}"}`},
	mcp.ToolRegenerateToken: {`{"id": "{id}"}`, `{"id": "{id}", "no_expiry": true}`},
	mcp.ToolListAudit:       {`{}`},
}

// bearerTransport sends every request with a bearer token.
type bearerTransport struct{ token string }

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpRows runs every tool of the MCP endpoint, with every argument of
// mcpArguments and every target, as a fresh credential of callerKind,
// through the official Go SDK client, and judges each call with the
// matrix's oracle. It returns how many rows ran and how many failed.
func (m *matrixEnv) mcpRows(t *testing.T, callerKind string) (rows, failed int) {
	t.Helper()
	srv := httptest.NewServer(mcp.NewHandler(m.svc, mcp.Options{}))
	defer srv.Close()
	connect := func(secret string) (*mcpsdk.ClientSession, error) {
		c := mcpsdk.NewClient(&mcpsdk.Implementation{Name: "matrix", Version: "1"}, nil)
		return c.Connect(m.ctx, &mcpsdk.StreamableClientTransport{
			Endpoint: srv.URL + mcp.Path, HTTPClient: &http.Client{Transport: bearerTransport{secret}},
			DisableStandaloneSSE: true, MaxRetries: -1,
		}, nil)
	}
	// Every tool the server lists has arguments to try.
	owner, err := connect(m.boot.Secret)
	if err != nil {
		t.Fatalf("connecting as the owner: %v", err)
	}
	tools, err := owner.ListTools(m.ctx, nil)
	owner.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if _, ok := mcpArguments[tool.Name]; !ok {
			t.Errorf("MCP tool %s has no row in the authorization matrix", tool.Name)
		}
	}
	secrets := 0
	for _, tool := range tools.Tools {
		targets := []string{""}
		if strings.Contains(strings.Join(mcpArguments[tool.Name], ""), "{id}") {
			targets = matrixTokenTargets
		}
		for _, target := range targets {
			for _, args := range mcpArguments[tool.Name] {
				rows++
				secret, self, email := m.caller(callerKind)
				if target != "" {
					args = strings.ReplaceAll(args, "{id}", m.target(target, self, email))
				}
				power := m.powerOf(secret)
				before := m.snapshot()
				refused, answered := "", ""
				cs, err := connect(secret)
				if err != nil {
					refused = "connect: " + err.Error()
				} else {
					res, err := cs.CallTool(m.ctx, &mcpsdk.CallToolParams{Name: tool.Name, Arguments: json.RawMessage(args)})
					cs.Close()
					switch {
					case err != nil:
						refused = err.Error()
					case res.IsError:
						refused = "tool error"
					default:
						var out struct {
							Secret string `json:"secret"`
						}
						b, _ := json.Marshal(res.StructuredContent)
						_ = json.Unmarshal(b, &out)
						answered = out.Secret
						if answered != "" {
							secrets++
						}
					}
				}
				after := m.snapshot()
				name := fmt.Sprintf("%s: MCP %s on %s with %s", callerKind, tool.Name, target, args)
				if !m.judge(t, name, power, before, after, refused, answered) {
					failed++
				}
			}
		}
	}
	// The rows test something only if the endpoint answers at all.
	if callerKind == "owner PAT" && secrets == 0 {
		t.Error("MCP never answered a secret to the owner's PAT: its rows test nothing")
	}
	return rows, failed
}
