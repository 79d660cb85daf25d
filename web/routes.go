package web

import (
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// route is one pattern of the standard ServeMux and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists every page and form of the dashboard. The API keeps /v1/,
// /openapi.json, /healthz and /readyz; /mcp, /oauth/ and /.well-known/
// belong to other handlers.
func (s *server) routes() []route {
	mine := &tokenSet{set: service.Personal, base: "/tokens", nav: "tokens", noun: "token"}
	keys := &tokenSet{set: service.OrgKeys, base: "/org/keys", nav: "keys", noun: "key"}
	rs := []route{
		{"GET /{$}", s.signedIn(s.home)},
		{"GET /signin", s.public(s.signInPage)},
		{"POST /signin", s.public(s.signIn)},
		{"POST /signout", s.signedIn(s.signOut)},
		{"GET /set-password/{token}", s.public(s.setPasswordPage)},
		{"POST /set-password", s.public(s.setPassword)},
		{"GET /invite/{token}", s.public(s.invitationPage)},
		{"POST /invite/accept", s.signedIn(s.acceptInvitation)},
		{"POST /invite/account", s.public(s.acceptWithAccount)},
		{"POST /org/switch", s.signedIn(s.switchOrg)},

		{"GET /connect", s.app(s.connect)},

		{"GET /org/members", s.app(s.members)},
		{"POST /org/members", s.app(s.addMember)},
		{"POST /org/members/{user}/role", s.app(s.changeRole)},
		{"POST /org/members/{user}/suspend", s.app(s.suspend(true))},
		{"POST /org/members/{user}/unsuspend", s.app(s.suspend(false))},
		{"GET /org/members/{user}/remove", s.app(s.confirmRemoveMember)},
		{"POST /org/members/{user}/remove", s.app(s.removeMember)},
		{"POST /org/invitations/{id}/cancel", s.app(s.cancelInvitation)},

		{"GET /org/policy", s.app(s.policy)},
		{"POST /org/policy", s.app(s.savePolicy)},

		{"GET /org/audit", s.app(s.audit)},
		{"GET /org/audit/export", s.app(s.exportAudit)},
	}
	// The caller's personal tokens and the org's API keys, agent and probe
	// tokens have the same pages.
	for _, ts := range []*tokenSet{mine, keys} {
		b := ts.base
		rs = append(rs,
			route{"GET " + b, s.app(s.listTokens(ts))},
			route{"GET " + b + "/new", s.app(s.newToken(ts))},
			route{"POST " + b, s.app(s.createToken(ts))},
			route{"GET " + b + "/{id}", s.app(s.showToken(ts))},
			route{"GET " + b + "/{id}/revoke", s.app(s.confirmToken(ts, "revoke"))},
			route{"POST " + b + "/{id}/revoke", s.app(s.revokeToken(ts))},
			route{"POST " + b + "/{id}/edit", s.app(s.editToken(ts))},
			route{"GET " + b + "/{id}/delete", s.app(s.confirmToken(ts, "delete"))},
			route{"POST " + b + "/{id}/delete", s.app(s.deleteToken(ts))},
			route{"POST " + b + "/{id}/regenerate", s.app(s.regenerateToken(ts))},
			route{"POST " + b + "/{id}/rotate", s.app(s.rotateToken(ts))},
			route{"POST " + b + "/{id}/scopes", s.app(s.addScope(ts))},
			route{"POST " + b + "/{id}/scopes/remove", s.app(s.removeScope(ts))},
			route{"POST " + b + "/{id}/scopes/{scope}/remove", s.app(s.removeScope(ts))},
		)
	}
	rs = append(rs, route{"/", http.HandlerFunc(s.notFound)})
	return rs
}

// notFound answers a path the dashboard does not have.
func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, nil, &keyward.Error{Code: keyward.ENOTFOUND, Message: "there is no such page", Detail: "check the address, or start again from your tokens"})
}

// home sends a signed-in person to their tokens.
func (s *server) home(w http.ResponseWriter, r *http.Request, q *request) error {
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
	return nil
}

// Patterns returns the pattern of every page and form of the dashboard, in
// the order routes lists them: for the tests that try each form as every
// kind of caller.
func Patterns() []string {
	var out []string
	for _, rt := range (&server{}).routes() {
		out = append(out, rt.pattern)
	}
	return out
}
