package keyward

// Kind is the kind of a credential. It fixes the token prefix and what the
// credential may do.
type Kind string

// The kinds of credential.
const (
	KindPAT    Kind = "pat"     // personal access token, owned by a user
	KindOAuth  Kind = "oauth"   // OAuth access token, owned by a user
	KindAPIKey Kind = "api_key" // org API key with a fixed role
	KindAgent  Kind = "agent"   // agent token: agent:* permissions only
	KindProbe  Kind = "probe"   // probe token: probe:* permissions only
)

// Kinds lists every kind, personal kinds first.
var Kinds = []Kind{KindPAT, KindOAuth, KindAPIKey, KindAgent, KindProbe}

// OrgKinds lists the kinds an org owns, managed under /v1/orgs/{org}/keys.
var OrgKinds = []Kind{KindAPIKey, KindAgent, KindProbe}

func (k Kind) shortName() string {
	switch k {
	case KindPAT:
		return "pat"
	case KindOAuth:
		return "oat"
	case KindAPIKey:
		return "key"
	case KindAgent:
		return "agt"
	case KindProbe:
		return "prb"
	}
	return ""
}

func kindByShortName(s string) (Kind, bool) {
	switch s {
	case "pat":
		return KindPAT, true
	case "oat":
		return KindOAuth, true
	case "key":
		return KindAPIKey, true
	case "agt":
		return KindAgent, true
	case "prb":
		return KindProbe, true
	}
	return "", false
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k.shortName() != "" }

// Personal reports whether tokens of this kind belong to a user and carry
// that user's current role.
func (k Kind) Personal() bool { return k == KindPAT || k == KindOAuth }
