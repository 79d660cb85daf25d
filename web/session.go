package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/service"
)

// Cookies of the dashboard. None holds a secret the server could read back
// as one: the session cookie holds the session id, which keyward stores
// only as its SHA-256.
const (
	sessionCookie = "kw_session"
	// preCSRFCookie keys the CSRF token of the forms shown before sign-in.
	preCSRFCookie = "kw_csrf"
	flashCookie   = "kw_flash"
	// csrfField is the form field that carries the CSRF token.
	csrfField = "csrf"
	// maxFormBytes bounds a form's body.
	maxFormBytes = 64 << 10
)

// request is one dashboard request with its session.
type request struct {
	s *server
	r *http.Request
	// sessionID is the browser's session id, "" before sign-in.
	sessionID string
	// state is the session's state; nil before sign-in.
	state *service.SessionState
	// caller acts for the person in their current org; nil when they may
	// not act there (suspended, or in no org).
	caller *service.Caller
	csrf   string
	flash  *Flash
}

// pageFunc is a page or form handler of a signed-in person.
type pageFunc func(w http.ResponseWriter, r *http.Request, q *request) error

// csrfToken derives the CSRF token of the forms of one session (or, before
// sign-in, of one browser's pre-session cookie). It is not the session id
// and does not reveal it.
func csrfToken(key string) string {
	sum := sha256.Sum256([]byte("keyward csrf\x00" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// randomToken returns 256 random bits, base64url-encoded.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// secure reports whether cookies must be Secure: the request came over TLS
// or the server's public URL is https.
func (s *server) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(s.baseURL, "https://")
}

// setCookie sets an HttpOnly, SameSite=Lax cookie, Secure under TLS.
// maxAge 0 makes a browser-session cookie; below 0 deletes it.
func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func cookieValue(r *http.Request, name string) string {
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	return c.Value
}

// codeFormTooLarge is the code of a form body larger than maxFormBytes: a
// 413.
const codeFormTooLarge = response.CodeRequestTooLarge

// errCSRF refuses a form whose CSRF token is missing or wrong.
var errCSRF = &keyward.Error{Code: keyward.EFORBIDDEN, Message: "this form has expired or did not come from this page",
	Detail: "reload the page and send the form again"}

// checkForm parses a POSTed form and checks its CSRF token against want.
func checkForm(w http.ResponseWriter, r *http.Request, want string) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
			return keyward.Errorf(codeFormTooLarge, "the form is larger than %d KiB", maxFormBytes>>10)
		}
		return keyward.Errorf(keyward.EINVALID, "the form could not be read")
	}
	got := r.PostForm.Get(csrfField)
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// public wraps the handlers of pages shown before sign-in (sign-in, set
// password): their forms carry a CSRF token keyed by a pre-session cookie.
func (s *server) public(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := cookieValue(r, preCSRFCookie)
		q := &request{s: s, r: r, sessionID: cookieValue(r, sessionCookie)}
		if r.Method == http.MethodPost {
			want := ""
			if key != "" {
				want = csrfToken(key)
			}
			if err := checkForm(w, r, want); err != nil {
				s.fail(w, r, q, err)
				return
			}
		}
		if key == "" {
			key = randomToken()
			s.setCookie(w, r, preCSRFCookie, key, 0)
		}
		q.csrf = csrfToken(key)
		if err := fn(w, r, q); err != nil {
			s.fail(w, r, q, err)
		}
	})
}

// signedIn wraps the handlers that need a session: without one, a page
// sends the browser to sign in and a form is refused. POSTed forms must
// carry the session's CSRF token. The handler may find q.caller nil.
func (s *server) signedIn(fn pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := &request{s: s, r: r, sessionID: cookieValue(r, sessionCookie)}
		state, err := s.svc.SessionCaller(r.Context(), q.sessionID, s.ip.String(r), r.UserAgent())
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
				s.fail(w, r, nil, err)
				return
			}
			if q.sessionID != "" {
				s.setCookie(w, r, sessionCookie, "", -1)
			}
			if r.Method == http.MethodGet {
				s.toSignIn(w, r, keyward.ErrorMessage(err))
				return
			}
			s.fail(w, r, nil, &keyward.Error{Code: keyward.EUNAUTHORIZED, Message: "you are signed out", Detail: "sign in and send the form again"})
			return
		}
		q.state, q.caller, q.csrf = state, state.Caller, csrfToken(q.sessionID)
		if r.Method == http.MethodPost {
			if err := checkForm(w, r, q.csrf); err != nil {
				s.fail(w, r, q, err)
				return
			}
		}
		if err := fn(w, r, q); err != nil {
			s.fail(w, r, q, err)
		}
	})
}

// app wraps the handlers that act in the person's current org: where they
// may not act (suspended there, or in no org) the page says so.
func (s *server) app(fn pageFunc) http.Handler {
	return s.signedIn(func(w http.ResponseWriter, r *http.Request, q *request) error {
		if q.caller == nil {
			return s.render(w, http.StatusForbidden, "noorg", noOrgPage{Layout: q.layout(w, "No access", "")})
		}
		return fn(w, r, q)
	})
}

// noOrgPage says that the person may not act in their current org.
type noOrgPage struct{ Layout }

// toSignIn sends the browser to the sign-in page, to come back here.
func (s *server) toSignIn(w http.ResponseWriter, r *http.Request, why string) {
	v := url.Values{}
	if r.URL.Path != "/" {
		v.Set("next", r.URL.RequestURI())
	}
	if why != "" && why != "not signed in" {
		s.setFlash(w, r, true, why)
	}
	to := "/signin"
	if len(v) > 0 {
		to += "?" + v.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// localPath accepts only a path on this server as a place to go next.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\r\n") {
		return "/tokens"
	}
	return p
}

// setFlash keeps a message for the next page this browser opens.
func (s *server) setFlash(w http.ResponseWriter, r *http.Request, isErr bool, msg string) {
	kind := "ok"
	if isErr {
		kind = "error"
	}
	s.setCookie(w, r, flashCookie, base64.RawURLEncoding.EncodeToString([]byte(kind+"\n"+msg)), 60)
}

// takeFlash reads and clears the flash message.
func (q *request) takeFlash(w http.ResponseWriter) *Flash {
	if q.flash != nil {
		return q.flash
	}
	v := cookieValue(q.r, flashCookie)
	if v == "" {
		return nil
	}
	q.s.setCookie(w, q.r, flashCookie, "", -1)
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil
	}
	kind, msg, ok := strings.Cut(string(b), "\n")
	if !ok || msg == "" {
		return nil
	}
	return &Flash{Error: kind == "error", Message: msg}
}

// layout fills the frame of a page.
func (q *request) layout(w http.ResponseWriter, title, nav string) Layout {
	l := Layout{Title: title, Nav: nav, CSRF: q.csrf, Flash: q.takeFlash(w)}
	if q.state != nil {
		l.User, l.Orgs, l.Current = q.state.User, q.state.Orgs, q.state.Current
	}
	if c := q.caller; c != nil {
		l.Can = Permissions{
			Keys:          c.Can(keyward.PermAPIKeysManage),
			ManageMembers: c.Can(keyward.PermMembersManage),
			Audit:         c.Can(keyward.PermAuditRead),
			Policy:        c.Can(keyward.PermPolicyManage),
		}
	}
	return l
}

// after ends a form that changes something: on success, or on an error
// the person can act on, it sends the browser to `to` with a message;
// other errors become the error page.
func (s *server) after(w http.ResponseWriter, r *http.Request, to, ok string, err error) error {
	if err != nil {
		if keyward.ErrorCode(err) == keyward.EINTERNAL {
			return err
		}
		msg := keyward.ErrorMessage(err)
		if d := keyward.ErrorDetail(err); d != "" {
			msg += " (" + d + ")"
		}
		s.setFlash(w, r, true, capitalize(msg))
	} else if ok != "" {
		s.setFlash(w, r, false, ok)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// noStore marks an answer that shows a secret: never kept by a cache or
// the browser's history.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.Header().Set("Expires", time.Unix(0, 0).UTC().Format(http.TimeFormat))
}
