package keyward

import (
	"strings"
	"time"
)

// IDPrefixOAuthClient starts the id of every OAuth client registered
// dynamically (RFC 7591).
const IDPrefixOAuthClient = "dcr_"

// The kinds of OAuth client.
const (
	// OAuthClientDynamic is a client registered through /oauth/register;
	// its id is "dcr_..." and keyward made it.
	OAuthClientDynamic = "dcr"
	// OAuthClientMetadata is a client known by its Client ID Metadata
	// Document: its id is the document's https URL, and keyward keeps the
	// name and redirect URIs last read from it.
	OAuthClientMetadata = "metadata"
)

// OAuthClient is a client of keyward's OAuth authorization server. Every
// client is public: it has no secret, and PKCE proves it is the one that
// asked for a code.
type OAuthClient struct {
	ID   string
	Kind string
	// Name is what the consent page and token lists call the client.
	Name string
	// RedirectURIs are the only URIs a code may be sent to, compared
	// exactly.
	RedirectURIs []string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OAuthCode is an authorization code as stored: only the SHA-256 of the
// code string, with what was consented to.
type OAuthCode struct {
	Hash          Hash
	ClientID      string
	UserID        string
	OrgID         string
	RedirectURI   string
	CodeChallenge string // S256: base64url of SHA-256 of the verifier
	Resource      string
	Scope         string
	CreatedAt     time.Time
	ExpiresAt     time.Time
	// UsedAt is when the code was exchanged; a code is used once.
	UsedAt *time.Time
	// TokenID is the token its exchange issued.
	TokenID string
}

// SourceLabel is how lists show a token's source: an OAuth token's names
// its client, "OAuth: <client name> (<client id>)"; other sources show as
// they are. clientName is "" when the client is unknown.
func SourceLabel(source, clientName string) string {
	id, ok := strings.CutPrefix(source, SourceOAuthPrefix)
	if !ok {
		return source
	}
	if clientName == "" {
		return "OAuth: " + id
	}
	return "OAuth: " + clientName + " (" + id + ")"
}
