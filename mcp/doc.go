// Package mcp serves keyward's MCP endpoint: a stateless streamable HTTP
// Model Context Protocol server at /mcp, built on the official Go SDK,
// whose tools (whoami, list_tokens, create_token, revoke_token,
// regenerate_token, list_audit) call the same service methods as the HTTP
// API, within the caller's permissions.
//
// Every request to /mcp presents a personal access token or an OAuth token
// as a Bearer token. A request without one, or with one keyward does not
// accept, is answered 401 with a WWW-Authenticate challenge naming the
// OAuth 2.0 protected resource metadata (RFC 9728), which the package also
// serves under /.well-known/oauth-protected-resource. A tool call that needs
// a permission the caller lacks is answered 403 insufficient_scope.
package mcp
