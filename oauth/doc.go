// Package oauth is keyward's narrow OAuth 2.1 authorization server, for
// MCP clients: RFC 8414 metadata, the authorization code grant with PKCE
// S256 only, dynamic client registration (RFC 7591), Client ID Metadata
// Documents fetched behind a guard against server-side request forgery,
// resource indicators bound to this server's MCP URL (RFC 8707), the
// iss response parameter (RFC 9207) and revocation (RFC 7009). It speaks
// HTTP only: every rule is in the service package, and the access token it
// hands out is a kw_oat_ token like any other.
package oauth
