package web

import (
	"net/http"
	"strings"
)

// connectPage shows how to connect AI clients to this server's MCP
// endpoint with a token.
type connectPage struct {
	Layout
	BaseURL string
	MCPURL  string
	Clients []clientSnippet
}

// clientSnippet is one AI client's set-up, filled with this server's URL.
type clientSnippet struct {
	ID, Name string
	// Where says where the snippet goes.
	Where string
	Code  string
	Note  string
}

// publicURL is this server's URL: the configured one, or the request's.
func (s *server) publicURL(r *http.Request) string {
	if s.baseURL != "" {
		return s.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// connect shows the snippets. Each uses $KEYWARD_TOKEN or asks for the
// token, so that no snippet holds a secret.
func (s *server) connect(w http.ResponseWriter, r *http.Request, q *request) error {
	base := s.publicURL(r)
	mcp := base + "/mcp"
	fill := func(code string) string {
		return strings.NewReplacer("{{MCP}}", mcp, "{{BASE}}", base).Replace(code)
	}
	clients := []clientSnippet{
		{ID: "claude-code", Name: "Claude Code", Where: "Run in a terminal",
			Code: "claude mcp add --transport http keyward {{MCP}} \\\n  --header \"Authorization: Bearer $KEYWARD_TOKEN\""},
		{ID: "claude-desktop", Name: "Claude Desktop", Where: "claude_desktop_config.json (Settings → Developer → Edit Config)",
			Code: `{
  "mcpServers": {
    "keyward": {
      "command": "npx",
      "args": ["-y", "mcp-remote", "{{MCP}}", "--header", "Authorization:${AUTH_HEADER}"],
      "env": { "AUTH_HEADER": "Bearer <your token>" }
    }
  }
}`, Note: "Claude Desktop reaches remote servers through mcp-remote, which needs Node.js."},
		{ID: "cursor", Name: "Cursor", Where: "~/.cursor/mcp.json, or .cursor/mcp.json in a project",
			Code: `{
  "mcpServers": {
    "keyward": {
      "url": "{{MCP}}",
      "headers": { "Authorization": "Bearer ${env:KEYWARD_TOKEN}" }
    }
  }
}`},
		{ID: "vscode", Name: "VS Code", Where: ".vscode/mcp.json in your workspace",
			Code: `{
  "inputs": [
    { "type": "promptString", "id": "keyward-token", "description": "keyward token", "password": true }
  ],
  "servers": {
    "keyward": {
      "type": "http",
      "url": "{{MCP}}",
      "headers": { "Authorization": "Bearer ${input:keyward-token}" }
    }
  }
}`, Note: "VS Code asks for the token once and keeps it in its secret storage."},
		{ID: "windsurf", Name: "Windsurf", Where: "~/.codeium/windsurf/mcp_config.json",
			Code: `{
  "mcpServers": {
    "keyward": {
      "serverUrl": "{{MCP}}",
      "headers": { "Authorization": "Bearer ${env:KEYWARD_TOKEN}" }
    }
  }
}`},
		{ID: "codex", Name: "Codex", Where: "~/.codex/config.toml",
			Code: `[mcp_servers.keyward]
url = "{{MCP}}"
bearer_token_env_var = "KEYWARD_TOKEN"`},
		{ID: "gemini", Name: "Gemini CLI", Where: "~/.gemini/settings.json",
			Code: `{
  "mcpServers": {
    "keyward": {
      "httpUrl": "{{MCP}}",
      "headers": { "Authorization": "Bearer $KEYWARD_TOKEN" }
    }
  }
}`},
		{ID: "curl", Name: "curl", Where: "Check a token from a terminal",
			Code: "curl -H \"Authorization: Bearer $KEYWARD_TOKEN\" {{BASE}}/v1/whoami"},
	}
	for i := range clients {
		clients[i].Code = fill(clients[i].Code)
	}
	return s.render(w, http.StatusOK, "connect", connectPage{
		Layout: q.layout(w, "Connect an AI client", "connect"), BaseURL: base, MCPURL: mcp, Clients: clients,
	})
}
