package oauth

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// readForm reads an application/x-www-form-urlencoded body of at most
// maxBody bytes; parameters in the URL are not read.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return nil, oauthErr(keyward.EINVALID, "the body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil, oauthErr(keyward.EINVALID, "the body is not a form of at most %d KiB", maxBody>>10)
	}
	return r.PostForm, nil
}

// params reads the named parameters, each at most once.
func params(v url.Values, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		s, err := single(v, n)
		if err != nil {
			return nil, err
		}
		out[n] = s
	}
	return out, nil
}

// tokenResponse is the answer of RFC 6749 section 5.1: no refresh_token,
// ever. Scope is the permissions granted, space-separated, always given:
// they may be fewer than those asked for (section 3.3).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// token is the token endpoint: authorization_code with PKCE, for public
// clients.
func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	p, err := params(form, "grant_type", "code", "redirect_uri", "client_id", "code_verifier", "resource")
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	switch p["grant_type"] {
	case "authorization_code":
	case "":
		h.jsonError(w, r, oauthErr(keyward.EINVALID, "grant_type is required"))
		return
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{Error: "unsupported_grant_type",
			Description: "only authorization_code is supported; keyward issues no refresh tokens"})
		return
	}
	if err := h.knownClient(r, p["client_id"]); err != nil {
		h.jsonError(w, r, err)
		return
	}
	t, secret, err := h.svc.ExchangeOAuthCode(r.Context(), service.OAuthExchange{
		Code: p["code"], ClientID: p["client_id"], RedirectURI: p["redirect_uri"],
		Verifier: p["code_verifier"], Resource: p["resource"],
		IP: h.ip.String(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: secret, TokenType: "Bearer",
		ExpiresIn: int64(t.ExpiresAt.Sub(t.CreatedAt).Seconds()),
		Scope:     strings.Join(t.Permissions, " "),
	})
}

// knownClient checks that id names a client keyward knows: a registered
// one, or one known by its metadata document (saved at consent).
func (h *handler) knownClient(r *http.Request, id string) error {
	if id == "" {
		return oauthErr(service.OAuthInvalidClient, "client_id is required")
	}
	if _, err := h.svc.FindOAuthClient(r.Context(), id); err != nil {
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return oauthErr(service.OAuthInvalidClient, "unknown client_id")
		}
		return err
	}
	return nil
}

// registration is the body of RFC 7591 section 2 that keyward reads.
type registration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// registered is the answer of RFC 7591 section 3.2.1.
type registered struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// register is dynamic client registration. Every client is public:
// whatever authentication method it asks for, it is registered with
// "none" (RFC 7591 lets the server replace requested values) and proves
// itself with PKCE; it gets the authorization_code grant only.
func (h *handler) register(w http.ResponseWriter, r *http.Request) {
	var reg registration
	if bad := readJSON(w, r, &reg); bad != nil {
		writeJSON(w, bad.status, bad.oauthError)
		return
	}
	if reg.GrantTypes != nil && !contains(reg.GrantTypes, "authorization_code") {
		h.jsonError(w, r, oauthErr(service.OAuthInvalidClientMetadata, "grant_types must include authorization_code, the only grant keyward supports"))
		return
	}
	if reg.ResponseTypes != nil && !contains(reg.ResponseTypes, "code") {
		h.jsonError(w, r, oauthErr(service.OAuthInvalidClientMetadata, "response_types must include code"))
		return
	}
	c, err := h.svc.RegisterOAuthClient(r.Context(), service.OAuthRegistration{Name: reg.ClientName, RedirectURIs: reg.RedirectURIs}, h.ip.String(r), r.UserAgent())
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, registered{
		ClientID: c.ID, ClientIDIssuedAt: c.CreatedAt.Unix(), ClientName: c.Name,
		RedirectURIs: c.RedirectURIs, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, TokenEndpointAuthMethod: "none",
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// revoke is RFC 7009 revocation, for OAuth access tokens, by the client
// they were issued to. An unknown or malformed token answers 200.
func (h *handler) revoke(w http.ResponseWriter, r *http.Request) {
	form, err := readForm(w, r)
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	p, err := params(form, "token", "token_type_hint", "client_id")
	if err != nil {
		h.jsonError(w, r, err)
		return
	}
	if p["token"] == "" {
		h.jsonError(w, r, oauthErr(keyward.EINVALID, "token is required"))
		return
	}
	if err := h.svc.RevokeOAuthToken(r.Context(), p["token"], p["client_id"], h.ip.String(r), r.UserAgent()); err != nil {
		h.jsonError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}
