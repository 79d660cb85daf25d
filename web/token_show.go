package web

import (
	"net/http"
	"strings"

	"github.com/keyward/keyward"
)

// tokenPage is one token's detail: its settings, scopes, and what can be
// done to it.
type tokenPage struct {
	Layout
	Set   Set
	Token *keyward.Token
	// CreatedBy names who minted it.
	CreatedBy string
	// Expiries are the lifetimes a regeneration may give.
	Expiries []choice
	// Overlaps are how long a rotated-out token may keep working.
	Overlaps   []choice
	Operations []string
	// RegenerateNonce and RotateNonce make those forms one-time.
	RegenerateNonce, RotateNonce string
	CanRotate                    bool
}

// showToken shows one token of the set.
func (s *server) showToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		t, err := s.svc.FindTokenByID(r.Context(), q.caller, ts.set, r.PathValue("id"))
		if err != nil {
			return err
		}
		p, err := s.svc.FindPolicy(r.Context(), q.caller)
		if err != nil {
			return err
		}
		page := tokenPage{
			Layout: q.layout(w, t.Name, ts.nav), Set: ts.view(), Token: t,
			CreatedBy: s.personName(q, t.CreatedBy),
			Expiries:  expiryChoices(p, s.svc.Now(), true),
			Overlaps: []choice{
				{Value: "0", Label: "None: the old token stops now"},
				{Value: "1h", Label: "1 hour"}, {Value: "1d", Label: "1 day"}, {Value: "7d", Label: "7 days"},
			},
			Operations:      keyward.Operations,
			RegenerateNonce: randomToken(), RotateNonce: randomToken(),
			CanRotate: t.State == keyward.StatusActive || t.State == keyward.StatusBlocked,
		}
		return s.render(w, http.StatusOK, "token", page)
	}
}

// personName names a user id as an email where the caller may see it.
func (s *server) personName(q *request, id string) string {
	switch {
	case id == "":
		return ""
	case id == keyward.ActorOperator:
		return "operator (keyward CLI)"
	case !strings.HasPrefix(id, keyward.IDPrefixUser):
		return id
	}
	if m, err := s.svc.FindMember(q.r.Context(), q.caller, id); err == nil {
		return m.User.Email
	}
	return id
}

// confirmPage asks before revoking or deleting a token, for browsers
// without the dialog's script.
type confirmPage struct {
	Layout
	Set   Set
	Token *keyward.Token
	// Action is "revoke" or "delete".
	Action string
}

// confirmToken shows the confirmation of action on a token.
func (s *server) confirmToken(ts *tokenSet, action string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		t, err := s.svc.FindTokenByID(r.Context(), q.caller, ts.set, r.PathValue("id"))
		if err != nil {
			return err
		}
		return s.render(w, http.StatusOK, "confirm", confirmPage{
			Layout: q.layout(w, capitalize(action)+" "+t.Name, ts.nav), Set: ts.view(), Token: t, Action: action,
		})
	}
}
