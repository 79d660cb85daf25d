package api

import (
	"net/http"

	"github.com/keyward/keyward/service"
)

// route is one pattern of the standard ServeMux and its handler.
type route struct {
	pattern string
	handler http.Handler
}

// routes lists every route of the API. openapi.json describes each one,
// and a test keeps the two the same. A route that reads a body reads it
// with decode; every other one is bodyless and refuses a body, but for
// the probes and GET /v1/auth (a forward-auth proxy may pass the guarded
// request's body along).
func (s *server) routes() []route {
	personal, keys := service.Personal, service.OrgKeys
	return []route{
		// Infrastructure: probes and scrapers, neither authenticated nor
		// counted.
		{"GET /healthz", s.open(s.healthz)},
		{"GET /readyz", s.open(s.readyz)},
		{"GET /metrics", s.open(s.serveMetrics)},

		{"GET /openapi.json", s.public(s.bodyless(s.serveOpenAPI))},

		{"GET /v1/whoami", s.authed(bodyless(s.whoami))},

		// Verification for resource servers and reverse proxies.
		{"POST /v1/verify", s.authed(s.verify)},
		{"GET /v1/auth", http.HandlerFunc(s.forwardAuth)}, // counts itself

		// The caller's personal access tokens in the caller's org.
		{"POST /v1/tokens", s.authed(s.createToken(personal))},
		{"GET /v1/tokens", s.authed(bodyless(s.listTokens(personal)))},
		{"DELETE /v1/tokens", s.authed(bodyless(s.deleteAllTokens(personal)))},
		{"GET /v1/tokens/{id}", s.authed(bodyless(s.getToken(personal)))},
		{"PATCH /v1/tokens/{id}", s.authed(s.updateToken(personal))},
		{"DELETE /v1/tokens/{id}", s.authed(bodyless(s.deleteToken(personal)))},
		{"POST /v1/tokens/{id}/revoke", s.authed(s.revokeToken(personal))},
		{"POST /v1/tokens/{id}/regenerate", s.authed(s.regenerateToken(personal))},
		{"POST /v1/tokens/{id}/rotate", s.authed(s.rotateToken(personal))},
		{"POST /v1/tokens/{id}/scopes", s.authed(s.addScope(personal))},
		{"DELETE /v1/tokens/{id}/scopes", s.authed(bodyless(s.removeScope(personal)))},
		{"DELETE /v1/tokens/{id}/scopes/{scope_id}", s.authed(bodyless(s.removeScope(personal)))},

		// The org's API keys, agent and probe tokens.
		{"POST /v1/orgs/{org}/keys", s.inOrg(s.createToken(keys))},
		{"GET /v1/orgs/{org}/keys", s.inOrg(bodyless(s.listTokens(keys)))},
		{"DELETE /v1/orgs/{org}/keys", s.inOrg(bodyless(s.deleteAllTokens(keys)))},
		{"GET /v1/orgs/{org}/keys/{id}", s.inOrg(bodyless(s.getToken(keys)))},
		{"PATCH /v1/orgs/{org}/keys/{id}", s.inOrg(s.updateToken(keys))},
		{"DELETE /v1/orgs/{org}/keys/{id}", s.inOrg(bodyless(s.deleteToken(keys)))},
		{"POST /v1/orgs/{org}/keys/{id}/revoke", s.inOrg(s.revokeToken(keys))},
		{"POST /v1/orgs/{org}/keys/{id}/regenerate", s.inOrg(s.regenerateToken(keys))},
		{"POST /v1/orgs/{org}/keys/{id}/rotate", s.inOrg(s.rotateToken(keys))},
		{"POST /v1/orgs/{org}/keys/{id}/scopes", s.inOrg(s.addScope(keys))},
		{"DELETE /v1/orgs/{org}/keys/{id}/scopes", s.inOrg(bodyless(s.removeScope(keys)))},
		{"DELETE /v1/orgs/{org}/keys/{id}/scopes/{scope_id}", s.inOrg(bodyless(s.removeScope(keys)))},

		// Members, policy and the audit log of the caller's org.
		{"GET /v1/orgs/{org}/members", s.inOrg(bodyless(s.listMembers))},
		{"POST /v1/orgs/{org}/members", s.inOrg(s.addMember)},
		{"GET /v1/orgs/{org}/members/{user}", s.inOrg(bodyless(s.getMember))},
		{"PATCH /v1/orgs/{org}/members/{user}", s.inOrg(s.updateMember)},
		{"DELETE /v1/orgs/{org}/members/{user}", s.inOrg(bodyless(s.removeMember))},
		{"POST /v1/orgs/{org}/members/{user}/suspend", s.inOrg(bodyless(s.suspendMember(true)))},
		{"POST /v1/orgs/{org}/members/{user}/unsuspend", s.inOrg(bodyless(s.suspendMember(false)))},
		{"GET /v1/orgs/{org}/invitations", s.inOrg(bodyless(s.listInvitations))},
		{"DELETE /v1/orgs/{org}/invitations/{invitation}", s.inOrg(bodyless(s.cancelInvitation))},
		{"GET /v1/orgs/{org}/policy", s.inOrg(bodyless(s.getPolicy))},
		{"PUT /v1/orgs/{org}/policy", s.inOrg(s.putPolicy)},
		{"GET /v1/orgs/{org}/audit", s.inOrg(bodyless(s.listAudit))},
	}
}
