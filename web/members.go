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
	// Added is the member just added and their one-time set-password
	// link, shown in the answer to the form only.
	Added   *service.Member
	AddLink string
	Form    memberForm
	Error   string
	Next    string
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
	if next != "" {
		page.Next = "/org/members?" + url.Values{"cursor": {next}}.Encode()
	}
	return s.render(w, status, "members", page)
}

// memberURL is the path of a member's actions.
func memberURL(user string) string { return "/org/members/" + url.PathEscape(user) }

// addMember adds a member; a new person gets a one-time set-password
// link, shown in this answer only.
func (s *server) addMember(w http.ResponseWriter, r *http.Request, q *request) error {
	form := memberForm{Email: r.PostForm.Get("email"), Name: r.PostForm.Get("name"), Role: r.PostForm.Get("role")}
	m, err := s.svc.AddMember(r.Context(), q.caller, service.MemberRequest{Email: form.Email, Name: form.Name, Role: keyward.Role(form.Role)})
	if err != nil {
		if keyward.ErrorCode(err) == keyward.EINTERNAL {
			return err
		}
		return s.showMembers(w, r, q, statusOf[keyward.ErrorCode(err)], membersPage{Form: form, Error: formMessage(err)})
	}
	page := membersPage{Added: m, Form: memberForm{Role: string(keyward.RoleMember)}}
	if m.SetPasswordToken != "" {
		noStore(w)
		page.AddLink = s.publicURL(r) + "/set-password/" + m.SetPasswordToken
	}
	return s.showMembers(w, r, q, http.StatusOK, page)
}

// changeRole changes a member's role.
func (s *server) changeRole(w http.ResponseWriter, r *http.Request, q *request) error {
	m, err := s.svc.UpdateMember(r.Context(), q.caller, r.PathValue("user"), service.MemberUpdate{Role: keyward.Role(r.PostForm.Get("role"))})
	msg := ""
	if err == nil {
		msg = m.User.Email + " is now " + string(m.Role) + "."
	}
	return s.after(w, r, "/org/members", msg, err)
}

// suspend suspends or unsuspends a member.
func (s *server) suspend(on bool) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		m, err := s.svc.SuspendMember(r.Context(), q.caller, r.PathValue("user"), on)
		msg := ""
		switch {
		case err != nil:
		case on:
			msg = m.User.Email + " is suspended: their tokens are blocked until you unsuspend them."
		default:
			msg = m.User.Email + " is active again."
		}
		return s.after(w, r, "/org/members", msg, err)
	}
}

// removeMemberPage asks before removing a member.
type removeMemberPage struct {
	Layout
	Member *service.Member
	Tokens int
}

// confirmRemoveMember shows what removing a member will revoke.
func (s *server) confirmRemoveMember(w http.ResponseWriter, r *http.Request, q *request) error {
	m, err := s.svc.FindMember(r.Context(), q.caller, r.PathValue("user"))
	if err != nil {
		return err
	}
	n, err := s.svc.CountMemberTokens(r.Context(), q.caller, m.UserID)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, "member_remove", removeMemberPage{Layout: q.layout(w, "Remove "+m.User.Email, "members"), Member: m, Tokens: n})
}

// removeMember removes a member and revokes their tokens in this org.
func (s *server) removeMember(w http.ResponseWriter, r *http.Request, q *request) error {
	m, revoked, err := s.svc.RemoveMember(r.Context(), q.caller, r.PathValue("user"))
	msg := ""
	if err == nil {
		msg = "Removed " + m.User.Email + " and revoked " + plural(len(revoked), "token") + "."
	}
	return s.after(w, r, "/org/members", msg, err)
}

// removeForm is what the remove-member form shows, in a dialog of the
// members page or on its own page.
type removeForm struct {
	CSRF   string
	Member *service.Member
	Tokens int
}

func newRemoveForm(csrf string, m *service.Member, tokens int) removeForm {
	return removeForm{CSRF: csrf, Member: m, Tokens: tokens}
}
