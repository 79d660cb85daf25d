package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/keyward/keyward"
)

// Rule is one rule of a route policy: requests with one of Methods (any
// method when empty) to a path that Path matches need Permission (when
// set) and a token of one of Kinds (any kind when empty).
//
// Path is a pattern of '/'-separated segments: a literal segment matches
// itself, "*" matches any one segment, and "*" as the last segment matches
// one or more segments. "/v1/agent/*" matches "/v1/agent/x" and
// "/v1/agent/x/y" but not "/v1/agent"; "/*" matches every path but "/".
type Rule struct {
	Methods    []string
	Path       string
	Permission string
	Kinds      []keyward.Kind

	segs []string
}

// RoutePolicy is an ordered list of rules: the first that matches a
// request applies, and a request that none matches is refused.
type RoutePolicy struct {
	rules []Rule
}

// NewRoutePolicy validates rules against the installation's permissions
// and returns the policy. Errors name the rule ("routes[2].path: ...").
func NewRoutePolicy(rules []Rule, perms *keyward.PermissionModel) (*RoutePolicy, error) {
	p := &RoutePolicy{}
	for i, r := range rules {
		where := fmt.Sprintf("routes[%d]", i)
		for j, m := range r.Methods {
			up := strings.ToUpper(strings.TrimSpace(m))
			if !validMethod(up) {
				return nil, fmt.Errorf("%s.methods[%d]: %q is not an HTTP method", where, j, m)
			}
			r.Methods[j] = up
		}
		r.Methods = slices.Compact(r.Methods)
		segs, err := parsePattern(r.Path)
		if err != nil {
			return nil, fmt.Errorf("%s.path: %w", where, err)
		}
		r.segs = segs
		if r.Permission != "" && !perms.Known(r.Permission) {
			return nil, fmt.Errorf("%s.permission: unknown permission %q (declare the product's own under permissions)", where, r.Permission)
		}
		for j, k := range r.Kinds {
			if !k.Valid() {
				return nil, fmt.Errorf("%s.kinds[%d]: unknown kind %q: want pat, oauth, api_key, agent or probe", where, j, k)
			}
		}
		p.rules = append(p.rules, r)
	}
	return p, nil
}

// Rules returns the policy's rules, in order.
func (p *RoutePolicy) Rules() []Rule { return slices.Clone(p.rules) }

// Match returns the first rule for method and the request target uri (a
// path with an optional query, as nginx's $request_uri, or an absolute
// URL). The path is unescaped and cleaned first, so "/v1/agent/../admin"
// is judged as "/admin". It reports false when no rule matches, and an
// error for a target that is not a URI.
func (p *RoutePolicy) Match(method, uri string) (*Rule, bool, error) {
	clean, err := CleanPath(uri)
	if err != nil {
		return nil, false, err
	}
	r, ok := p.MatchPath(method, clean)
	return r, ok, nil
}

// MatchPath is Match for a path already cleaned (see SplitTarget).
func (p *RoutePolicy) MatchPath(method, clean string) (*Rule, bool) {
	for i := range p.rules {
		r := &p.rules[i]
		if len(r.Methods) > 0 && !slices.Contains(r.Methods, method) {
			continue
		}
		if matchPath(r.segs, clean) {
			return r, true
		}
	}
	return nil, false
}

// CleanPath returns the cleaned, unescaped path of a request target.
func CleanPath(uri string) (string, error) {
	clean, _, err := SplitTarget(uri)
	return clean, err
}

// SplitTarget returns the cleaned, unescaped path and the raw query of a
// request target: a path with an optional query, as nginx's $request_uri
// and the X-Forwarded-Uri of Caddy and Traefik carry it, or an absolute
// URL. A target that starts with "/" is a path even where it starts with
// "//": the product behind the proxy reads "//admin/x" as the path
// "//admin/x" (and most as "/admin/x"), never as the host "admin". It
// reports an error for a target that is not a URI.
func SplitTarget(target string) (clean, rawQuery string, err error) {
	if target == "" {
		return "", "", errors.New("empty request target")
	}
	if target[0] == '/' {
		p, q, _ := strings.Cut(target, "?")
		// The usual target has nothing to unescape nor to refuse: it is
		// split where it stands, on every GET /v1/auth.
		if strings.IndexByte(p, '%') < 0 && !hasControl(target) {
			return cleanPath(p), q, nil
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return "", "", errors.New("request target is not a URI")
		}
		return cleanPath(u.Path), u.RawQuery, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", "", errors.New("request target is not a URI")
	}
	return cleanPath(u.Path), u.RawQuery, nil
}

// hasControl reports whether s holds an ASCII control character, which
// no URI may.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// cleanPath returns p cleaned, rooted at "/".
func cleanPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p)
}

// matchPath reports whether the clean path p matches the pattern's
// segments. It walks p in place: it is asked on every GET /v1/auth.
func matchPath(pattern []string, p string) bool {
	rest, more := strings.TrimPrefix(p, "/"), p != "/"
	for i, ps := range pattern {
		if !more {
			return false
		}
		if ps == "*" && i == len(pattern)-1 {
			return true // the last "*" takes the rest, one segment or more
		}
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		if ps != "*" && ps != seg {
			return false
		}
	}
	return !more
}

// parsePattern checks a path pattern and splits it into segments.
func parsePattern(p string) ([]string, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%q must start with /", p)
	}
	if p == "/" {
		return nil, nil
	}
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for _, s := range segs {
		switch {
		case s == "":
			return nil, fmt.Errorf("%q has an empty segment (// or a trailing /)", p)
		case s == "." || s == "..":
			return nil, fmt.Errorf("%q has a . or .. segment", p)
		case s != "*" && strings.Contains(s, "*"):
			return nil, fmt.Errorf("%q: * must be a whole segment", p)
		}
	}
	return segs, nil
}

func validMethod(m string) bool {
	if m == "" || len(m) > 20 {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
