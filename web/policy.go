package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// policyPage shows the org's token policy, as a form for owners.
type policyPage struct {
	Layout
	Policy *keyward.Policy
	// MaxLifetime is the cap as typed ("90d"), "" for none.
	MaxLifetime string
	Kinds       []kindBox
	Error       string
}

// kindBox is one kind's allowed checkbox.
type kindBox struct {
	Kind    keyward.Kind
	Label   string
	Allowed bool
}

// policy shows the policy page.
func (s *server) policy(w http.ResponseWriter, r *http.Request, q *request) error {
	p, err := s.svc.FindPolicy(r.Context(), q.caller)
	if err != nil {
		return err
	}
	return s.showPolicy(w, q, http.StatusOK, p, "")
}

func (s *server) showPolicy(w http.ResponseWriter, q *request, status int, p *keyward.Policy, errMsg string) error {
	page := policyPage{Layout: q.layout(w, "Token policy", "policy"), Policy: p, Error: errMsg}
	if p.MaxLifetime > 0 {
		page.MaxLifetime = keyward.FormatDuration(p.MaxLifetime)
	}
	for _, k := range keyward.Kinds {
		page.Kinds = append(page.Kinds, kindBox{Kind: k, Label: kindLabel(k), Allowed: len(p.AllowedKinds) == 0 || slices.Contains(p.AllowedKinds, k)})
	}
	return s.render(w, status, "policy", page)
}

// savePolicy replaces the policy. Allowing every kind saves no list.
func (s *server) savePolicy(w http.ResponseWriter, r *http.Request, q *request) error {
	req := service.PolicyRequest{
		RequireExpiry: r.PostForm.Get("require_expiry") != "",
		MaxLifetime:   strings.TrimSpace(r.PostForm.Get("max_lifetime")),
	}
	for _, k := range r.PostForm["kind"] {
		req.AllowedKinds = append(req.AllowedKinds, keyward.Kind(k))
	}
	if len(req.AllowedKinds) == len(keyward.Kinds) {
		req.AllowedKinds = nil
	} else if len(req.AllowedKinds) == 0 {
		return s.after(w, r, "/org/policy", "", keyward.Errorf(keyward.EINVALID, "allow at least one kind of token"))
	}
	_, err := s.svc.SavePolicy(r.Context(), q.caller, req)
	return s.after(w, r, "/org/policy", "Policy saved. Tokens that break it are blocked until they comply.", err)
}
