package oauth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"github.com/keyward/keyward/internal/response"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// authzRequest is an authorization request's parameters.
type authzRequest struct {
	ClientID, RedirectURI, ResponseType, State string
	Challenge, Method, Resource, Scope         string
}

// authzParams are the parameters an authorization request carries, in the
// query of GET and in the consent form's hidden fields.
var authzParams = []string{"client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method", "resource", "scope"}

func (a *authzRequest) values() url.Values {
	v := url.Values{}
	for n, s := range map[string]string{
		"client_id": a.ClientID, "redirect_uri": a.RedirectURI, "response_type": a.ResponseType,
		"state": a.State, "code_challenge": a.Challenge, "code_challenge_method": a.Method,
		"resource": a.Resource, "scope": a.Scope,
	} {
		if s != "" {
			v.Set(n, s)
		}
	}
	return v
}

// pageError is an error shown on a page, never sent to a redirect URI: the
// URI is not (yet) known to be the client's.
type pageError struct {
	status  int
	message string
}

// redirectError is an error sent back to the client's validated redirect
// URI (RFC 6749 section 4.1.2.1).
type redirectError struct {
	code, description string
}

// validated is an authorization request whose client and redirect URI are
// known good.
type validated struct {
	req    authzRequest
	client *keyward.OAuthClient
}

// check validates an authorization request in the order that decides
// where its errors go: client and redirect URI first (errors on a page),
// then the rest (errors to the redirect URI).
func (h *handler) check(ctx context.Context, v url.Values) (*validated, *pageError, *redirectError) {
	p, err := params(v, authzParams...)
	if err != nil {
		// Which duplicate it is decides whether the redirect URI can be
		// trusted; a page is right for both.
		return nil, &pageError{http.StatusBadRequest, keyward.ErrorMessage(err)}, nil
	}
	a := authzRequest{
		ClientID: p["client_id"], RedirectURI: p["redirect_uri"], ResponseType: p["response_type"], State: p["state"],
		Challenge: p["code_challenge"], Method: p["code_challenge_method"], Resource: p["resource"], Scope: p["scope"],
	}
	client, perr := h.resolveClient(ctx, a.ClientID)
	if perr != nil {
		return nil, perr, nil
	}
	if a.RedirectURI == "" {
		return nil, &pageError{http.StatusBadRequest, "redirect_uri is required"}, nil
	}
	if !service.RedirectURIMatches(client, a.RedirectURI) {
		return nil, &pageError{http.StatusBadRequest, "redirect_uri does not match any redirect URI registered for this client"}, nil
	}
	val := &validated{req: a, client: client}
	switch {
	case a.ResponseType != "code":
		return val, nil, &redirectError{"unsupported_response_type", "response_type must be code"}
	case a.Method == "plain":
		return val, nil, &redirectError{keyward.EINVALID, "code_challenge_method plain is not allowed; use S256"}
	case a.Method != "S256":
		return val, nil, &redirectError{keyward.EINVALID, "code_challenge_method must be S256 (PKCE is required)"}
	case a.Challenge == "":
		return val, nil, &redirectError{keyward.EINVALID, "code_challenge is required (PKCE with S256)"}
	case !validChallenge(a.Challenge):
		return val, nil, &redirectError{keyward.EINVALID, "code_challenge must be the 43-character base64url SHA-256 of the code verifier"}
	case a.Resource == "":
		return val, nil, &redirectError{service.OAuthInvalidTarget, "resource is required and must be " + h.resource}
	case a.Resource != h.resource:
		return val, nil, &redirectError{service.OAuthInvalidTarget, "resource must be " + h.resource}
	}
	if _, err := h.svc.OAuthScope(a.Scope); err != nil {
		return val, nil, &redirectError{keyward.ErrorCode(err), keyward.ErrorMessage(err)}
	}
	return val, nil, nil
}

// validChallenge reports whether c can be an S256 code challenge: 32
// bytes in base64url without padding.
func validChallenge(c string) bool {
	_, err := base64.RawURLEncoding.DecodeString(c)
	return len(c) == 43 && err == nil
}

// resolveClient finds a registered client, or reads the metadata document
// of a client whose id is an https URL.
func (h *handler) resolveClient(ctx context.Context, id string) (*keyward.OAuthClient, *pageError) {
	switch {
	case id == "":
		return nil, &pageError{http.StatusBadRequest, "client_id is required"}
	case isMetadataClientID(id):
		c, err := h.fetcher.fetch(ctx, id)
		if err != nil {
			return nil, &pageError{http.StatusBadRequest, keyward.ErrorMessage(err)}
		}
		return c, nil
	case strings.HasPrefix(id, keyward.IDPrefixOAuthClient):
		c, err := h.svc.FindOAuthClient(ctx, id)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil, &pageError{http.StatusBadRequest, "unknown client_id"}
		} else if err != nil {
			return nil, h.failure("finding a client", err)
		}
		return c, nil
	}
	return nil, &pageError{http.StatusBadRequest, "unknown client_id"}
}

// authorize shows the consent page to a signed-in user.
func (h *handler) authorize(w http.ResponseWriter, r *http.Request) {
	val, perr, rerr := h.check(r.Context(), r.URL.Query())
	if perr != nil {
		h.errorPage(w, perr)
		return
	}
	if rerr != nil {
		h.redirectError(w, r, val, rerr)
		return
	}
	user, ok := h.signedIn(w, r, val)
	if !ok {
		return
	}
	orgs, err := h.svc.OAuthOrgs(r.Context(), user, val.req.Scope)
	if c := keyward.ErrorCode(err); c == service.OAuthAccessDenied || c == service.OAuthInvalidScope {
		h.redirectError(w, r, val, &redirectError{c, keyward.ErrorMessage(err)})
		return
	} else if err != nil {
		h.errorPage(w, h.failure("listing orgs", err))
		return
	}
	if len(orgs) == 0 {
		h.redirectError(w, r, val, &redirectError{service.OAuthAccessDenied, "the signed-in user is an active member of no org"})
		return
	}
	h.consentPage(w, r, val, user, orgs)
}

// signedIn returns the signed-in user, or sends the person to sign in and
// come back to this authorization request.
func (h *handler) signedIn(w http.ResponseWriter, r *http.Request, val *validated) (*keyward.User, bool) {
	user, err := h.sessions.SignedIn(r)
	if err != nil {
		h.errorPage(w, h.failure("reading the session", err))
		return nil, false
	}
	if user == nil {
		next := "/oauth/authorize?" + val.req.values().Encode()
		http.Redirect(w, r, h.sessions.SignInURL(next), http.StatusSeeOther)
		return nil, false
	}
	return user, true
}

// decide takes the user's answer on the consent page.
func (h *handler) decide(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		h.errorPage(w, &pageError{http.StatusBadRequest, "the consent form could not be read"})
		return
	}
	form := r.PostForm
	val, perr, rerr := h.check(r.Context(), form)
	if perr != nil {
		h.errorPage(w, perr)
		return
	}
	user, ok := h.signedIn(w, r, val)
	if !ok {
		return
	}
	if !h.validCSRF(r, form) {
		h.errorPage(w, &pageError{http.StatusForbidden, errCSRF})
		return
	}
	if rerr != nil {
		h.redirectError(w, r, val, rerr)
		return
	}
	if d, _ := single(form, "decision"); d != "allow" {
		h.redirectError(w, r, val, &redirectError{service.OAuthAccessDenied, "the user denied access"})
		return
	}
	orgID, _ := single(form, "org_id")
	code, err := h.svc.IssueOAuthCode(r.Context(), user, service.OAuthGrant{
		Client: val.client, OrgID: orgID, RedirectURI: val.req.RedirectURI,
		CodeChallenge: val.req.Challenge, Resource: val.req.Resource, Scope: val.req.Scope,
		IP: h.ip.String(r), UserAgent: r.UserAgent(),
	})
	if err != nil {
		code, desc := h.errorCode(r, err)
		h.redirectError(w, r, val, &redirectError{code, desc})
		return
	}
	h.redirect(w, r, val, url.Values{"code": {code}})
}

// redirectError sends an error to the validated redirect URI.
func (h *handler) redirectError(w http.ResponseWriter, r *http.Request, val *validated, e *redirectError) {
	h.redirect(w, r, val, url.Values{"error": {e.code}, "error_description": {e.description}})
}

// redirect sends the answer to the validated redirect URI, with state and
// iss (RFC 9207).
func (h *handler) redirect(w http.ResponseWriter, r *http.Request, val *validated, v url.Values) {
	if val.req.State != "" {
		v.Set("state", val.req.State)
	}
	v.Set("iss", h.issuer)
	target := val.req.RedirectURI
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target+sep+v.Encode(), http.StatusSeeOther)
}

// The CSRF token of the consent form is a random value in a cookie that
// only this site can set and that no other site sends (SameSite=Strict),
// repeated in the form: a page elsewhere can post the form but not know
// the value.
const (
	csrfCookie       = "kw_oauth_csrf"
	secureCSRFCookie = "__Host-kw_oauth_csrf"
	errCSRF          = "the consent form did not come from this site or has expired (missing or invalid CSRF token); start again from the application"
)

func (h *handler) csrfCookieName() string {
	if h.secure {
		return secureCSRFCookie
	}
	return csrfCookie
}

// csrfToken returns the CSRF token for the consent form, setting the
// cookie when there is none yet.
func (h *handler) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(h.csrfCookieName()); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: h.csrfCookieName(), Value: tok, Path: "/", HttpOnly: true, Secure: h.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: 3600,
	})
	return tok
}

// validCSRF reports whether the form carries the cookie's CSRF token.
func (h *handler) validCSRF(r *http.Request, form url.Values) bool {
	c, err := r.Cookie(h.csrfCookieName())
	if err != nil || len(c.Value) != 43 {
		return false
	}
	got, err := single(form, "csrf_token")
	return err == nil && subtle.ConstantTimeCompare([]byte(got), []byte(c.Value)) == 1
}

// orgChoice is one org on the consent page.
type orgChoice struct {
	ID, Name, Slug string
	Role           keyward.Role
	// Permissions are exactly what a token consented in this org gets.
	Permissions []string
	Checked     bool
}

// hiddenField is one parameter of the authorization request, carried by
// the consent form.
type hiddenField struct{ Name, Value string }

// consentData is the consent page's data.
type consentData struct {
	ClientName  string
	ClientID    string
	ByMetadata  bool   // the client is known by its metadata document
	ClientHost  string // the host that publishes that document
	RedirectURI string
	Loopback    bool // the redirect URI is on this computer
	Resource    string
	// Scope is the scope the client asked for; empty when it asked for
	// none and gets DefaultScope.
	Scope        []string
	DefaultScope string
	UserEmail    string
	Orgs         []orgChoice
	Several      bool
	CSRFToken    string
	Fields       []hiddenField
}

func (h *handler) consentPage(w http.ResponseWriter, r *http.Request, val *validated, user *keyward.User, orgs []service.OAuthOrg) {
	d := consentData{
		ClientName: val.client.Name, ClientID: val.client.ID,
		ByMetadata:  val.client.Kind == keyward.OAuthClientMetadata,
		RedirectURI: val.req.RedirectURI, Resource: val.req.Resource, UserEmail: user.Email,
		Scope: strings.Fields(val.req.Scope), DefaultScope: service.DefaultOAuthScope,
		Several: len(orgs) > 1, CSRFToken: h.csrfToken(w, r),
	}
	if u, err := url.Parse(val.client.ID); err == nil && d.ByMetadata {
		d.ClientHost = u.Host
	}
	if u, err := url.Parse(val.req.RedirectURI); err == nil && u.Scheme == "http" {
		d.Loopback = true // ValidateRedirectURI allows http on loopback hosts only
	}
	for i, o := range orgs {
		perms := slices.Clone([]string(o.Permissions))
		d.Orgs = append(d.Orgs, orgChoice{ID: o.Org.ID, Name: o.Org.Name, Slug: o.Org.Slug, Role: o.Role, Permissions: perms, Checked: i == 0})
	}
	v := val.req.values()
	for _, n := range authzParams {
		if s := v.Get(n); s != "" {
			d.Fields = append(d.Fields, hiddenField{n, s})
		}
	}
	h.render(w, http.StatusOK, "consent.html", d, val.req.RedirectURI)
}

// errorPageData is the error page's data.
type errorPageData struct {
	Message string
}

func (h *handler) errorPage(w http.ResponseWriter, e *pageError) {
	if e.status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", response.RetryAfter)
	}
	h.render(w, e.status, "error.html", errorPageData{Message: e.message}, "")
}

// failure is the page of an error that is not the client's: 503 while
// the database is unavailable (logged once by the store), else a logged
// 500.
func (h *handler) failure(what string, err error) *pageError {
	if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
		return &pageError{http.StatusServiceUnavailable, keyward.ErrorMessage(err) + "; try again in a few seconds"}
	}
	h.log.Error("oauth: "+what, "err", err)
	return &pageError{http.StatusInternalServerError, "internal error"}
}
