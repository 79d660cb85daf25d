package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// newTokenPage is the form that mints a token or key.
type newTokenPage struct {
	Layout
	Set      Set
	Form     tokenForm
	Expiries []choice
	// Permissions the token may be narrowed to (personal tokens).
	Permissions []string
	// Kinds and Roles of org credentials.
	Kinds []choice
	Roles []choice
	// Nonce makes the form one-time, so a reload cannot mint twice.
	Nonce   string
	Error   string
	MinDate string
	Policy  *keyward.Policy
}

// choice is one option of a radio group or select.
type choice struct {
	Value, Label, Note string
	Disabled           bool
}

// tokenForm holds what the person typed, to show it again after an error.
type tokenForm struct {
	Name, Description, Expiry, ExpiresOn, Scopes string
	Kind, Role, AgentID                          string
	Perms                                        map[string]bool
}

// expiryPresets are the lifetimes the form offers, in days.
var expiryPresets = []int{7, 30, 60, 90}

// expiryChoices lists the lifetimes, disabling those that policy forbids.
func expiryChoices(p *keyward.Policy, now time.Time, withKeep bool) []choice {
	var out []choice
	if withKeep {
		out = append(out, choice{Value: "keep", Label: "Same length as before"})
	}
	for _, d := range expiryPresets {
		c := choice{Value: strconv.Itoa(d) + "d", Label: plural(d, "day"), Note: now.AddDate(0, 0, d).Format("Jan 2, 2006")}
		if p.MaxLifetime > 0 && time.Duration(d)*24*time.Hour > p.MaxLifetime {
			c.Disabled, c.Note = true, "longer than the org allows"
		}
		out = append(out, c)
	}
	out = append(out, choice{Value: "custom", Label: "Custom date"})
	none := choice{Value: "none", Label: "No expiration", Note: "not recommended"}
	if p.RequireExpiry || p.MaxLifetime > 0 {
		none.Disabled, none.Note = true, "the org requires an expiry"
	}
	return append(out, none)
}

// newToken shows the form.
func (s *server) newToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		form := tokenForm{Expiry: "30d", Kind: string(keyward.KindAPIKey), Role: string(keyward.RoleMember)}
		return s.showNewToken(w, q, ts, http.StatusOK, form, "")
	}
}

func (s *server) showNewToken(w http.ResponseWriter, q *request, ts *tokenSet, status int, form tokenForm, errMsg string) error {
	p, err := s.svc.FindPolicy(q.r.Context(), q.caller)
	if err != nil {
		return err
	}
	title := "New personal access token"
	if ts.org() {
		title = "New API key"
	}
	now := s.svc.Now()
	page := newTokenPage{
		Layout: q.layout(w, title, ts.nav), Set: ts.view(), Form: form, Policy: p,
		Expiries: expiryChoices(p, now, false), Nonce: randomToken(), Error: errMsg,
		MinDate: now.AddDate(0, 0, 1).Format("2006-01-02"),
	}
	if ts.org() {
		for _, k := range keyward.OrgKinds {
			c := choice{Value: string(k), Label: kindLabel(k)}
			if len(p.AllowedKinds) > 0 && !slices.Contains(p.AllowedKinds, k) {
				c.Disabled, c.Note = true, "not allowed by the org's policy"
			}
			page.Kinds = append(page.Kinds, c)
		}
		for _, r := range keyward.Roles {
			if r.Rank() <= q.caller.Role.Rank() {
				page.Roles = append(page.Roles, choice{Value: string(r), Label: string(r)})
			}
		}
	} else {
		page.Permissions = q.caller.Permissions
	}
	return s.render(w, status, "token_new", page)
}

// readTokenForm reads the posted form.
func readTokenForm(r *http.Request) tokenForm {
	f := r.PostForm
	form := tokenForm{
		Name: f.Get("name"), Description: f.Get("description"), Expiry: f.Get("expiry"),
		ExpiresOn: f.Get("expires_on"), Scopes: f.Get("scopes"),
		Kind: f.Get("kind"), Role: f.Get("role"), AgentID: f.Get("agent_id"),
		Perms: map[string]bool{},
	}
	for _, p := range f["perm"] {
		form.Perms[p] = true
	}
	return form
}

// expiryRequest turns the form's expiry into the service's terms: a
// duration, a date, or none.
func expiryRequest(expiry, on string) (in string, at *time.Time, none bool, err error) {
	switch expiry {
	case "none":
		return "", nil, true, nil
	case "custom":
		d, perr := time.Parse("2006-01-02", strings.TrimSpace(on))
		if perr != nil {
			return "", nil, false, keyward.Errorf(keyward.EINVALID, "choose the custom expiry date")
		}
		// The token works through the whole of the chosen day (UTC).
		end := d.Add(24 * time.Hour)
		return "", &end, false, nil
	case "keep", "":
		return "", nil, false, nil
	}
	for _, d := range expiryPresets {
		if expiry == strconv.Itoa(d)+"d" {
			return expiry, nil, false, nil
		}
	}
	return "", nil, false, keyward.Errorf(keyward.EINVALID, "unknown expiry: choose one of the offered lifetimes")
}

// parseScopes reads the scopes box: one scope a line, "type:id op op".
func parseScopes(text string) ([]service.ScopeRequest, error) {
	var out []service.ScopeRequest
	for i, line := range strings.Split(text, "\n") {
		fields := strings.Fields(strings.ReplaceAll(line, ",", " "))
		if len(fields) == 0 {
			continue
		}
		typ, id, ok := strings.Cut(fields[0], ":")
		if !ok || len(fields) < 2 {
			return nil, keyward.Errorf(keyward.EINVALID, "scope line %d: write it as type:id followed by operations, such as \"monitor:* read list\"", i+1)
		}
		out = append(out, service.ScopeRequest{EntityType: typ, EntityID: id, Operations: fields[1:]})
	}
	return out, nil
}

// createToken mints the token and shows its secret, this once, in the
// answer to the form: nothing is kept to show it again.
func (s *server) createToken(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		if err := s.svc.UseNonce(r.Context(), r.PostForm.Get("nonce")); err != nil {
			return s.alreadySent(w, q, ts, err)
		}
		form := readTokenForm(r)
		req := service.TokenRequest{Name: form.Name, Description: form.Description}
		// No expiry is neither expires_in nor expires_at.
		var err error
		req.ExpiresIn, req.ExpiresAt, _, err = expiryRequest(form.Expiry, form.ExpiresOn)
		if err == nil {
			req.Scopes, err = parseScopes(form.Scopes)
		}
		if ts.org() {
			req.Kind = keyward.Kind(form.Kind)
			if req.Kind == keyward.KindAPIKey {
				req.Role = keyward.Role(form.Role)
			}
			if req.Kind == keyward.KindAgent {
				req.AgentID = strings.TrimSpace(form.AgentID)
			}
		} else if len(form.Perms) > 0 {
			for p := range form.Perms {
				req.Permissions = append(req.Permissions, p)
			}
			slices.Sort(req.Permissions)
		}
		var t *keyward.Token
		var secret string
		if err == nil {
			t, secret, err = s.svc.CreateToken(r.Context(), q.caller, ts.set, req)
		}
		if err != nil {
			if code := keyward.ErrorCode(err); code == keyward.EINVALID || code == keyward.EFORBIDDEN {
				return s.showNewToken(w, q, ts, statusOf(code), form, formMessage(err))
			}
			return err
		}
		return s.reveal(w, q, ts, t, secret, "created")
	}
}

// formMessage is an error's message and detail as a sentence.
func formMessage(err error) string {
	msg := capitalize(keyward.ErrorMessage(err))
	if d := keyward.ErrorDetail(err); d != "" {
		msg += " (" + d + ")"
	}
	return msg + "."
}

// revealPage shows a new secret once.
type revealPage struct {
	Layout
	Set    Set
	Token  *keyward.Token
	Secret string
	// Action is "created", "regenerated" or "rotated".
	Action string
}

// reveal answers the form that made a secret with the secret itself. The
// answer may not be stored, and the form that led here is one-time, so a
// reload shows no secret.
func (s *server) reveal(w http.ResponseWriter, q *request, ts *tokenSet, t *keyward.Token, secret, action string) error {
	noStore(w)
	return s.render(w, http.StatusOK, "reveal", revealPage{
		Layout: q.layout(w, "Copy your new "+ts.noun, ts.nav), Set: ts.view(), Token: t, Secret: secret, Action: action,
	})
}

// alreadySentPage answers a one-time form sent again, as a reload does.
type alreadySentPage struct {
	Layout
	Set Set
}

func (s *server) alreadySent(w http.ResponseWriter, q *request, ts *tokenSet, err error) error {
	if keyward.ErrorCode(err) != keyward.ECONFLICT && keyward.ErrorCode(err) != keyward.EINVALID {
		return err
	}
	noStore(w)
	return s.render(w, http.StatusConflict, "sent", alreadySentPage{Layout: q.layout(w, "Already done", ts.nav), Set: ts.view()})
}
