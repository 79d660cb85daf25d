package web

import (
	"net/http"
	"net/url"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// tokenSet is one of the two sets of token pages: the person's own tokens
// (/tokens) or the org's API keys, agent and probe tokens (/org/keys).
type tokenSet struct {
	set  service.TokenSet
	base string
	nav  string
	// noun names one credential of the set in buttons: "token" or "key".
	noun string
}

// tokenURL is the detail page of token id in the set.
func (ts *tokenSet) tokenURL(id string) string { return ts.base + "/" + url.PathEscape(id) }

// org reports whether the set is the org's credentials.
func (ts *tokenSet) org() bool { return ts.set == service.OrgKeys }

// Set is what the token templates know of the set they show.
type Set struct {
	Base string
	Noun string
	Org  bool
}

func (ts *tokenSet) view() Set { return Set{Base: ts.base, Noun: ts.noun, Org: ts.org()} }

// tokensPage is the list of a set's tokens.
type tokensPage struct {
	Layout
	Set    Set
	Tokens []*keyward.Token
	// Status is the filter in force: "all", "active", "expired", "revoked".
	Status  string
	Filters []filterTab
	// Next is the URL of the next page, "" on the last.
	Next string
}

// filterTab is one status filter.
type filterTab struct {
	Label, Status, URL string
	Current            bool
}

// listTokens shows a page of the set's tokens, newest first, filtered by
// ?status=.
func (s *server) listTokens(ts *tokenSet) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *request) error {
		status := r.URL.Query().Get("status")
		if status == "" {
			status = "all"
		}
		f := keyward.TokenFilter{Status: keyward.Status(status), Cursor: r.URL.Query().Get("cursor")}
		tokens, next, err := s.svc.FindTokens(r.Context(), q.caller, ts.set, f)
		if err != nil {
			return err
		}
		title := "Tokens"
		if ts.org() {
			title = "API keys"
		}
		page := tokensPage{Layout: q.layout(w, title, ts.nav), Set: ts.view(), Tokens: tokens, Status: status}
		for _, st := range []string{"all", "active", "expired", "revoked"} {
			label := map[string]string{"all": "All", "active": "Active", "expired": "Expired", "revoked": "Revoked"}[st]
			page.Filters = append(page.Filters, filterTab{Label: label, Status: st, URL: ts.base + "?status=" + st, Current: st == status})
		}
		if next != "" {
			page.Next = ts.base + "?" + url.Values{"status": {status}, "cursor": {next}}.Encode()
		}
		return s.render(w, http.StatusOK, "tokens", page)
	}
}
