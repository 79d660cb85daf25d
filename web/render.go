package web

import (
	"bytes"
	"fmt"
	"github.com/keyward/keyward/internal/response"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// pages are the parsed templates, one per page, each with the layout.
type pages struct {
	byName map[string]*template.Template
}

// mustParsePages parses every page template with the layout once, at
// start. The templates are embedded, so a failure is a build mistake.
func mustParsePages(fsys fs.FS) *pages {
	p := &pages{byName: map[string]*template.Template{}}
	names, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t, err := template.New(base).Funcs(funcs).ParseFS(fsys, "templates/layout.html", "templates/partials.html", name)
		if err != nil {
			panic(fmt.Sprintf("web: parsing %s: %v", name, err))
		}
		p.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return p
}

// Layout is what every page shows around its content: the title, the
// navigation, the person and their orgs, a flash message, and the CSRF
// token its forms carry.
type Layout struct {
	Title string
	// Nav names the section the page belongs to, to mark it current.
	Nav   string
	CSRF  string
	Flash *Flash
	// User is nil on the sign-in and set-password pages.
	User    *keyward.User
	Orgs    []service.SessionOrg
	Current *service.SessionOrg
	Can     Permissions
}

// Permissions says which org pages the person may open.
type Permissions struct {
	Keys, ManageMembers, Audit, Policy bool
}

// Flash is a one-time message shown on the page after a form.
type Flash struct {
	Error   bool
	Message string
}

// render writes page name with data and status. It renders into a buffer
// first, so that a template failure is an error page, not half a page.
func (s *server) render(w http.ResponseWriter, status int, name string, data any) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: rendering %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

// errorPage is the page of a failed request.
type errorPage struct {
	Layout
	Status  int
	Message string
	Detail  string
	// Back is where the page offers to go next.
	Back string
}

// statusOf is the HTTP status of a page that shows an error of code, from
// the table every front end reads; unknown codes are internal errors.
func statusOf(code string) int {
	status, _ := response.Status(code)
	return status
}

// fail renders err as an error page. Errors without a keyward code are
// logged and shown as "internal error", never with their text.
func (s *server) fail(w http.ResponseWriter, r *http.Request, q *request, err error) {
	code := keyward.ErrorCode(err)
	status, ok := response.Status(code)
	page := errorPage{Message: capitalize(keyward.ErrorMessage(err)), Detail: sentence(keyward.ErrorDetail(err)), Back: "/tokens"}
	if !ok {
		status = http.StatusInternalServerError
		page.Message, page.Detail = "Something went wrong on our side.", "The error was logged. Try again in a moment."
		s.log.ErrorContext(r.Context(), "dashboard internal error", "method", r.Method, "path", redactPath(r.URL.Path), "err", err)
	}
	page.Status = status
	response.SetRetryAfter(w.Header(), status)
	if q != nil {
		page.Layout = q.layout(w, http.StatusText(status), "")
	} else {
		page.Title = http.StatusText(status)
	}
	if err := s.render(w, status, "error", page); err != nil {
		s.log.Error("rendering the error page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// redactPath hides the token of a set-password or invitation link.
func redactPath(p string) string {
	for _, prefix := range []string{"/set-password/", "/invite/"} {
		if strings.HasPrefix(p, prefix) {
			return prefix + "[redacted]"
		}
	}
	return p
}

// sentence makes a message of the domain (lower case, no stop) a sentence.
func sentence(s string) string {
	if s == "" || strings.HasSuffix(s, ".") {
		return capitalize(s)
	}
	return capitalize(s) + "."
}
