package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// auditActions are the actions the filter offers.
var auditActions = []string{
	keyward.ActionTokenCreated, keyward.ActionTokenUsed, keyward.ActionTokenRevoked,
	keyward.ActionTokenRegenerated, keyward.ActionTokenRotated, keyward.ActionTokenReuseDetected,
	keyward.ActionTokenDeleted, keyward.ActionTokenUpdated, keyward.ActionTokenScopeAdded,
	keyward.ActionTokenScopeRemoved, keyward.ActionMemberAdded, keyward.ActionMemberRoleChanged,
	keyward.ActionMemberSuspended, keyward.ActionMemberUnsuspended, keyward.ActionMemberRemoved,
	keyward.ActionPolicyChanged, keyward.ActionOrgCreated, keyward.ActionUserCreated,
	keyward.ActionOAuthClientRegistered, keyward.ActionOAuthConsentGranted, keyward.ActionAuthDenied,
}

// auditPage is a page of the org's audit log with its filters.
type auditPage struct {
	Layout
	Filter  auditForm
	Actions []string
	Events  []auditRow
	Next    string
	// Export is the query of the current filters, for the export links.
	Export string
}

// auditForm is the filters as typed.
type auditForm struct {
	Action, Actor, Target, Since, Until string
}

// auditRow is one event with its actor and target named.
type auditRow struct {
	*keyward.AuditEvent
	ActorName string
	// TargetName is the target's name or email as the event recorded it.
	TargetName string
}

// targetName reads the name or email an event's details give its target.
func targetName(details []byte) string {
	var d struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if json.Unmarshal(details, &d) != nil {
		return ""
	}
	if d.Name != "" {
		return d.Name
	}
	return d.Email
}

// readAuditFilter reads the filters: dates are whole days in UTC, the
// actor an email or an id.
func (s *server) readAuditFilter(q *request) (auditForm, keyward.AuditFilter, error) {
	v := q.r.URL.Query()
	form := auditForm{Action: v.Get("action"), Actor: strings.TrimSpace(v.Get("actor")), Target: strings.TrimSpace(v.Get("target")), Since: v.Get("since"), Until: v.Get("until")}
	f := keyward.AuditFilter{Action: form.Action, Actor: form.Actor, Target: form.Target, Cursor: v.Get("cursor")}
	if strings.Contains(f.Actor, "@") {
		if m, err := s.svc.FindMember(q.r.Context(), q.caller, f.Actor); err == nil {
			f.Actor = m.UserID
		}
	}
	day := func(name, val string) (time.Time, error) {
		if val == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse("2006-01-02", val)
		if err != nil {
			return t, keyward.Errorf(keyward.EINVALID, "%s must be a date such as 2026-11-25", name)
		}
		return t, nil
	}
	var err error
	if f.Since, err = day("since", form.Since); err != nil {
		return form, f, err
	}
	if f.Until, err = day("until", form.Until); err != nil {
		return form, f, err
	}
	if !f.Until.IsZero() {
		f.Until = f.Until.Add(24*time.Hour - time.Microsecond) // through the whole day
	}
	return form, f, nil
}

// query is the filters as a URL query.
func (f auditForm) query() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"action": f.Action, "actor": f.Actor, "target": f.Target, "since": f.Since, "until": f.Until} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// audit shows a page of the audit log, newest first.
func (s *server) audit(w http.ResponseWriter, r *http.Request, q *request) error {
	form, f, err := s.readAuditFilter(q)
	if err != nil {
		return s.after(w, r, "/org/audit", "", err)
	}
	events, next, err := s.svc.FindAudit(r.Context(), q.caller, f)
	if err != nil {
		return err
	}
	names := s.memberNames(q)
	page := auditPage{Layout: q.layout(w, "Audit log", "audit"), Filter: form, Actions: auditActions, Export: form.query().Encode()}
	for _, e := range events {
		row := auditRow{AuditEvent: e, ActorName: e.Actor, TargetName: targetName(e.Details)}
		if n, ok := names[e.Actor]; ok {
			row.ActorName = n
		}
		page.Events = append(page.Events, row)
	}
	if next != "" {
		v := form.query()
		v.Set("cursor", next)
		page.Next = "/org/audit?" + v.Encode()
	}
	return s.render(w, http.StatusOK, "audit", page)
}

// memberNames maps the org's members' ids to their emails.
func (s *server) memberNames(q *request) map[string]string {
	names := map[string]string{}
	ms, _, err := s.svc.FindMembers(q.r.Context(), q.caller, "", keyward.MaxPageSize)
	if err != nil {
		return names
	}
	for _, m := range ms {
		names[m.UserID] = m.User.Email
	}
	return names
}
