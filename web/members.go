package web

import (
	"net/http"
	"net/url"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// membersPage lists the org's members.
type membersPage struct {
	Layout
	Members []memberRow
	Roles   []keyward.Role
	// Invitations are the org's pending invitations.
	Invitations []invitationRow
	// Invited is the invitation just made and its one-time link, shown in
	// the answer to the form only.
	Invited    *keyward.Invitation
	InviteLink string
	Form       memberForm
	Error      string
	Next       string
}

// invitationRow is one pending invitation with what the caller may do.
type invitationRow struct {
	*keyward.Invitation
	Expired bool
	// Cancel: the caller may withdraw it (admins cannot touch owners').
	Cancel bool
}

// memberRow is one member with what the caller may do to them.
type memberRow struct {
	*service.Member
	// Manage: the caller may change this member (admins cannot touch
	// owners).
	Manage bool
	Self   bool
	// Tokens is how many active tokens removing them would revoke.
	Tokens int
	// Roles the caller may give them.
	Roles []keyward.Role
}

type memberForm struct{ Email, Name, Role string }

// members shows the members page.
func (s *server) members(w http.ResponseWriter, r *http.Request, q *request) error {
	return s.showMembers(w, r, q, http.StatusOK, membersPage{Form: memberForm{Role: string(keyward.RoleMember)}})
}

func (s *server) showMembers(w http.ResponseWriter, r *http.Request, q *request, status int, page membersPage) error {
	ms, next, err := s.svc.FindMembers(r.Context(), q.caller, r.URL.Query().Get("cursor"), 0)
	if err != nil {
		return err
	}
	page.Layout = q.layout(w, "Members", "members")
	manage := q.caller.Can(keyward.PermMembersManage)
	for _, r := range keyward.Roles {
		if manage && r.Rank() <= q.caller.Role.Rank() {
			page.Roles = append(page.Roles, r)
		}
	}
	for _, m := range ms {
		row := memberRow{Member: m, Self: m.UserID == q.caller.User.ID}
		row.Manage = manage && m.Role.Rank() <= q.caller.Role.Rank()
		if row.Manage {
			row.Roles = page.Roles
			if row.Tokens, err = s.svc.CountMemberTokens(r.Context(), q.caller, m.UserID); err != nil {
				return err
			}
		}
		page.Members = append(page.Members, row)
	}
	// Pending invitations head the first page.
	if r.URL.Query().Get("cursor") == "" {
		invs, _, err := s.svc.FindInvitations(r.Context(), q.caller, "", keyward.MaxPageSize)
		if err != nil {
			return err
		}
		now := s.svc.Now()
		for _, inv := range invs {
			page.Invitations = append(page.Invitations, invitationRow{
				Invitation: inv, Expired: !now.Before(inv.ExpiresAt),
				Cancel: manage && inv.Role.Rank() <= q.caller.Role.Rank(),
			})
		}
	}
	if next != "" {
		page.Next = "/org/members?" + url.Values{"cursor": {next}}.Encode()
	}
	return s.render(w, status, "members", page)
}

// memberURL is the path of a member's actions.
func memberURL(user string) string { return "/org/members/" + url.PathEscape(user) }
