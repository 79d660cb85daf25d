package api

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/config"
	"github.com/keyward/keyward/internal/credential"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// Headers of the original request that a proxy passes to GET /v1/auth:
// nginx's auth_request is configured to send X-Original-*, Caddy's
// forward_auth and Traefik's ForwardAuth send X-Forwarded-*.
var (
	originalMethodHeaders = []string{"X-Original-Method", "X-Forwarded-Method"}
	originalURIHeaders    = []string{"X-Original-Uri", "X-Forwarded-Uri"} // canonical: X-Original-URI
)

// Identity headers of a 200 from GET /v1/auth, for the proxy to pass on.
const (
	HeaderTokenID     = "X-Keyward-Token-Id"
	HeaderKind        = "X-Keyward-Kind"
	HeaderOrgID       = "X-Keyward-Org-Id"
	HeaderOrgSlug     = "X-Keyward-Org-Slug"
	HeaderUserID      = "X-Keyward-User-Id"
	HeaderRole        = "X-Keyward-Role"
	HeaderAgentID     = "X-Keyward-Agent-Id"
	HeaderPermissions = "X-Keyward-Permissions"
	// HeaderCode is the verdict's code on every refusal of /v1/auth that
	// reached one (a 200 is always VALID).
	HeaderCode = "X-Keyward-Code"
)

// codeHeaders are header values shared by the refusals of GET /v1/auth;
// nothing changes them after they are set.
var (
	codeHeaders = func() map[verify.Code][]string {
		m := map[verify.Code][]string{}
		for _, c := range verify.Codes {
			m[c] = []string{c.String()}
		}
		return m
	}()
)

// identityHeaders are the identity headers a 200 from GET /v1/auth may
// carry, in the order of config.IdentityFields.
var identityHeaders = [8]string{HeaderTokenID, HeaderKind, HeaderOrgID, HeaderOrgSlug, HeaderUserID, HeaderRole, HeaderAgentID, HeaderPermissions}

// identityIndexes returns the indexes into identityHeaders of the fields
// named (config.IdentityFields, checked by config), nil for the default.
func identityIndexes(names []string) []int {
	if names == nil {
		names = config.DefaultIdentityHeaders
	}
	out := make([]int, 0, len(names))
	for _, n := range names {
		if i := slices.Index(config.IdentityFields, n); i >= 0 {
			out = append(out, i)
		}
	}
	return out
}

// forwardAuth answers a reverse proxy's question about the request it
// holds: GET /v1/auth. It reads the original request's credential, method
// and URI, applies the route policy, and answers 200 with the X-Keyward-*
// identity headers and no body, or the error body with 401, 403 (or 400
// for a token in the original URI, 429 when rate limited) and the
// verdict's code in X-Keyward-Code.
func (s *server) forwardAuth(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	v, code, coded, err := s.admit(w, r)
	// The original request counts against its token's budget when the
	// token is accepted, against the client address otherwise.
	if err == nil {
		id, _ := v.Identity()
		if lerr := s.countToken(w.Header(), r, id.TokenID, id.RateLimit); lerr != nil {
			v.RateLimit(keyward.ErrorDetail(lerr))
			code, err = v.Code, lerr
		}
	} else if lerr := s.countAddress(w.Header(), r); lerr != nil {
		err = lerr
	}
	if coded {
		s.metrics.Verification("auth", code.String(), time.Since(start))
	}
	if err != nil {
		if coded {
			w.Header()[HeaderCode] = codeHeaders[code]
		}
		s.error(w, r, err)
		return
	}
	// The keys are canonical already, and one array holds every value:
	// this answer is given before every request of the guarded product.
	// It has no body; net/http sends its Content-Length of 0.
	id, _ := v.Identity()
	vals := [8]string{id.TokenID, string(id.Kind), id.OrgID, id.OrgSlug, id.UserID, string(id.Role), id.AgentID, id.Permissions}
	h := w.Header()
	for _, i := range s.identity {
		if vals[i] != "" {
			h[identityHeaders[i]] = vals[i : i+1 : i+1]
		}
	}
	w.WriteHeader(http.StatusOK)
}

// admit reaches the verdict on the original request and returns it with
// its code, and the error that refuses the request. A request refused
// before its token is looked at has the code NotFound (no usable
// credential) or RouteNotAdmitted; a malformed request has none (coded
// is false).
func (s *server) admit(w http.ResponseWriter, r *http.Request) (v service.Verdict, code verify.Code, coded bool, err error) {
	var none service.Verdict
	if err := refuseTokenInURL(r); err != nil {
		return none, 0, false, err
	}
	method, uri := firstHeader(r.Header, originalMethodHeaders), firstHeader(r.Header, originalURIHeaders)
	// The original URI is split once, for the query and the route policy.
	var clean string
	if uri != "" {
		var query string
		var err error
		if clean, query, err = config.SplitTarget(uri); err != nil {
			return none, 0, false, keyward.Errorf(keyward.EINVALID, "the original request's URI is not a URI")
		}
		if name, ok := credential.TokenInQuery(query); ok {
			return none, 0, false, credential.ErrTokenInURL(name)
		}
	}
	raw, err := credential.FromHeader(r.Header)
	if err == credential.ErrMissing {
		w.Header().Set("WWW-Authenticate", challengeMissing)
	}
	if err != nil {
		return none, verify.NotFound, true, err
	}
	var need service.Need
	if s.policy != nil {
		if method == "" || uri == "" {
			return none, 0, false, &keyward.Error{
				Code:    keyward.EINVALID,
				Message: "the original request's method and URI are missing",
				Detail:  "a route policy is configured: send X-Original-Method and X-Original-URI (nginx), or X-Forwarded-Method and X-Forwarded-Uri (Caddy, Traefik)",
			}
		}
		method = strings.ToUpper(method)
		rule, ok := s.policy.MatchPath(method, clean)
		if !ok {
			return none, verify.RouteNotAdmitted, true, verify.RouteNotAdmitted.Err(method + " " + s.redactPath(clean))
		}
		need = service.Need{Permission: rule.Permission, Kinds: rule.Kinds}
	}
	v, err = s.svc.Judge(r.Context(), raw, s.ip.Addr(r), r.UserAgent(), need)
	if err != nil {
		return none, 0, false, fmt.Errorf("forward auth: %w", err)
	}
	return v, v.Code, true, v.Err()
}

// firstHeader returns the first of the headers names (canonical already)
// that is set.
func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if vs := h[n]; len(vs) > 0 {
			if v := strings.TrimSpace(vs[0]); v != "" {
				return v
			}
		}
	}
	return ""
}
