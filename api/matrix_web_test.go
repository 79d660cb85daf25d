package api_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/web"
)

// matrixSessions are the people who use the dashboard, by role, and the
// other org's owner acting in their own org on this org's targets.
var matrixSessions = map[string]string{
	"owner session": "owner@example.com", "admin session": "ann@example.com",
	"member session": "mo@example.com", "viewer session": "vic@example.com",
	"other org's owner session": "oscar@example.com",
}

// webForms are the form bodies tried on each dashboard form that acts on
// an org's credentials or members; {nonce} is a fresh one-time nonce.
// A form that acts on no org's credentials is listed with no bodies.
var webForms = map[string][]string{
	"POST /signin": nil, "POST /signout": nil, "POST /set-password": nil, "POST /org/switch": nil,
	"POST /invite/accept": nil, "POST /invite/account": nil,
	"POST /tokens":                          {"nonce={nonce}&name=m&expiry=30d", "nonce={nonce}&name=m&expiry=none&perm=tokens:read&perm=audit:read&perm=monitors:write"},
	"POST /org/keys":                        {"nonce={nonce}&name=m&expiry=none&kind=api_key&role=owner", "nonce={nonce}&name=m&expiry=30d&kind=api_key&role=admin", "nonce={nonce}&name=m&expiry=30d&kind=agent&agent_id=a-1"},
	"POST {set}/{id}/revoke":                {""},
	"POST {set}/{id}/edit":                  {"name=renamed"},
	"POST {set}/{id}/delete":                {""},
	"POST {set}/{id}/regenerate":            {"nonce={nonce}&expiry=keep", "nonce={nonce}&expiry=none"},
	"POST {set}/{id}/rotate":                {"nonce={nonce}&overlap=1h"},
	"POST {set}/{id}/scopes":                {"entity_type=monitor&entity_id=*&op=read&op=update&op=delete"},
	"POST {set}/{id}/scopes/remove":         {""},
	"POST {set}/{id}/scopes/{scope}/remove": {""},
	"POST /org/members":                     {"email=new@example.com&role=owner", "email=new@example.com&role=member"},
	"POST /org/members/{user}/role":         {"role=owner", "role=admin", "role=viewer"},
	"POST /org/members/{user}/suspend":      {""},
	"POST /org/members/{user}/unsuspend":    {""},
	"POST /org/members/{user}/remove":       {""},
	"POST /org/invitations/{id}/cancel":     {""},
	"POST /org/policy":                      {""},
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	secretShow = regexp.MustCompile(`value="(kw_[a-z]+_[0-9A-Za-z]+)"`)
)

// webRows tries every form of the dashboard that acts on an org's
// credentials, as the person of sessionKind signed in, against every
// target, and judges each post with the matrix's oracle. It returns how
// many rows ran and how many failed.
func (m *matrixEnv) webRows(t *testing.T, sessionKind string) (rows, failed int) {
	t.Helper()
	email := matrixSessions[sessionKind]
	srv := httptest.NewServer(web.NewHandler(m.svc, web.Options{}))
	defer srv.Close()
	link, err := m.svc.AdminPasswordLink(m.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "the matrix's long password"
	if _, err := m.svc.SetPassword(m.ctx, link, pw); err != nil {
		t.Fatal(err)
	}
	sessionID, err := m.svc.SignIn(m.ctx, service.SignInRequest{Email: email, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(method, path, form string) (*http.Response, string) {
		var body io.Reader
		if form != "" || method == http.MethodPost {
			body = strings.NewReader(form)
		}
		req, _ := http.NewRequest(method, srv.URL+path, body)
		req.AddCookie(&http.Cookie{Name: "kw_session", Value: sessionID})
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	// The person's own membership, put back after each row that changed
	// it, so that every row acts with the role the row is named for.
	var home keyward.Membership
	if err := m.store.View(m.ctx, func(tx service.Tx) error {
		u, err := tx.FindUserByEmail(m.ctx, email)
		if err != nil {
			return err
		}
		org := m.boot.Org.ID
		if email == "oscar@example.com" {
			org = m.other.Org.ID
		}
		mb, err := tx.FindMembership(m.ctx, org, u.ID)
		if err == nil {
			home = *mb
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, page := send(http.MethodGet, "/tokens", "")
	csrf := csrfField.FindStringSubmatch(page)
	if csrf == nil {
		t.Fatalf("%s: no CSRF token on /tokens", sessionKind)
	}
	secrets := 0
	for _, pattern := range web.Patterns() {
		if !strings.HasPrefix(pattern, "POST ") {
			continue
		}
		key := strings.NewReplacer("/tokens/{id}", "{set}/{id}", "/org/keys/{id}", "{set}/{id}").Replace(pattern)
		bodies, ok := webForms[key]
		if !ok {
			t.Errorf("dashboard form %s has no row in the authorization matrix", pattern)
			continue
		}
		targets := []string{""}
		switch {
		case strings.Contains(pattern, "/invitations/{id}"):
			targets = matrixInvitationTargets
		case strings.Contains(pattern, "{id}"):
			targets = matrixTokenTargets[1:] // a session has no token of its own
		case strings.Contains(pattern, "{user}"):
			targets = matrixUserTargets
		}
		for _, target := range targets {
			for _, body := range bodies {
				rows++
				path := strings.TrimPrefix(pattern, "POST ")
				switch {
				case strings.Contains(path, "/invitations/{id}"):
					path = strings.ReplaceAll(path, "{id}", m.invitation(target))
				case strings.Contains(path, "{id}"):
					id := m.target(target, nil, email)
					path = strings.ReplaceAll(path, "{id}", id)
					scopeID := "scp_missing"
					if tok, err := m.findToken(id); err == nil && len(tok.Scopes) > 0 {
						scopeID = tok.Scopes[0].ID
					}
					path = strings.ReplaceAll(path, "{scope}", scopeID)
				case strings.Contains(path, "{user}"):
					user := map[string]string{"self": email, "owner": "owner@example.com", "admin": "ann@example.com", "member": "mo@example.com",
						"another org's user": "oscar@example.com", "nobody": "nobody@example.com"}[target]
					if user == email && target != "self" {
						user = "owner@example.com"
					}
					path = strings.ReplaceAll(path, "{user}", url.PathEscape(user))
				}
				form := strings.ReplaceAll(body, "{nonce}", keyward.NewID("n"))
				if form != "" {
					form += "&"
				}
				form += "csrf=" + url.QueryEscape(csrf[1])
				var power *keyward.Power
				if st, err := m.svc.SessionCaller(m.ctx, sessionID, "127.0.0.1", "test"); err == nil && st.Caller != nil {
					p := m.callerPower(st.Caller)
					power = &p
				}
				before := m.snapshot()
				resp, page := send(http.MethodPost, path, form)
				after := m.snapshot()
				refused := ""
				if resp.StatusCode >= 400 {
					refused = fmt.Sprint(resp.StatusCode)
				} else if flashIsError(resp) {
					refused = "error flash"
				}
				secret := ""
				if s := secretShow.FindStringSubmatch(page); s != nil {
					secret = s[1]
					secrets++
				}
				name := fmt.Sprintf("%s: dashboard POST %s on %s with %s", sessionKind, path, target, body)
				if !m.judge(t, name, power, before, after, refused, secret) {
					failed++
				}
				m.restoreMember(email, home)
			}
		}
	}
	// The rows test something only if the forms are taken at all.
	if sessionKind == "owner session" && secrets == 0 {
		t.Error("the dashboard never answered a secret to the owner: its rows test nothing")
	}
	return rows, failed
}

// restoreMember puts a person's membership back as home was, through
// the service as the org's owner, when a row changed it.
func (m *matrixEnv) restoreMember(email string, home keyward.Membership) {
	m.t.Helper()
	owner := m.owner
	if home.OrgID == m.other.Org.ID {
		owner = m.other
	}
	mb, err := m.svc.FindMember(m.ctx, owner, email)
	if keyward.ErrorCode(err) == keyward.ENOTFOUND {
		u, err := m.svc.AdminCreateUser(m.ctx, email, "", "", "", "")
		if keyward.ErrorCode(err) == keyward.ECONFLICT {
			err = m.store.View(m.ctx, func(tx service.Tx) error {
				var err error
				u, err = tx.FindUserByEmail(m.ctx, email)
				return err
			})
		}
		if err != nil {
			m.t.Fatal(err)
		}
		inv, err := m.svc.AddMember(m.ctx, owner, service.MemberRequest{Email: email, Role: home.Role})
		if err != nil {
			m.t.Fatalf("inviting %s back: %v", email, err)
		}
		if _, err := m.svc.AcceptInvitation(m.ctx, inv.Token, u, "", ""); err != nil {
			m.t.Fatalf("%s accepting again: %v", email, err)
		}
		return
	} else if err != nil {
		m.t.Fatal(err)
	}
	if mb.Role != home.Role {
		if _, err := m.svc.UpdateMember(m.ctx, owner, email, service.MemberUpdate{Role: home.Role}); err != nil {
			m.t.Fatalf("restoring %s's role: %v", email, err)
		}
	}
	if mb.Suspended {
		if _, err := m.svc.SuspendMember(m.ctx, owner, email, false); err != nil {
			m.t.Fatalf("unsuspending %s: %v", email, err)
		}
	}
}

// flashIsError reports whether resp sets an error flash, the dashboard's
// answer to a refused form that goes back to a page.
func flashIsError(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if c.Name == "kw_flash" && c.Value != "" {
			b, err := base64.RawURLEncoding.DecodeString(c.Value)
			return err == nil && strings.HasPrefix(string(b), "error\n")
		}
	}
	return false
}
