package mcp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/mcp"
)

// BenchmarkToolCall measures one stateless MCP request through the whole
// handler over loopback HTTP: Host and Origin checks, Bearer
// authentication on SQLite, the permission check, and the SDK's
// handling, with a tool call that reads nothing more (whoami) and one
// that lists a page of tokens.
func BenchmarkToolCall(b *testing.B) {
	e := newEnv(b, mcp.Options{})
	for _, c := range []struct{ name, body string }{
		{"whoami", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}`},
		{"list_tokens", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tokens","arguments":{}}}`},
		{"tools_list", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{}
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, e.srv.URL+mcp.Path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
				req.Header.Set("MCP-Protocol-Version", "2025-11-25")
				req.Header.Set("Authorization", "Bearer "+e.owner)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("got status %d", resp.StatusCode)
				}
			}
		})
	}
}
