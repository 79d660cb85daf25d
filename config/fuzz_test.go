package config_test

import (
	"path"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/config"
)

// FuzzSplitTarget checks the request targets that forward auth reads
// from nginx's $request_uri and X-Forwarded-Uri: a target that splits
// gives a clean, rooted path with no dot segments, which splits again to
// itself (cleaning is idempotent); an error never repeats the target.
func FuzzSplitTarget(f *testing.F) {
	for _, s := range []string{
		"/", "/v1/agent/x?y=1", "/v1/agent/../admin", "//admin/x", "/%2e%2e/admin", "/a%2Fb", "/a%zz",
		"https://h/x/../y?q", "http://[::1", "x", "?a", "/a?b?c", "/a\x00b", "/a#frag", "%2f", "/./.", "/a/b/",
		"/?token=kw_pat_0123456789abcdefghijABCDEFGHIJ012345",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, target string) {
		clean, q, err := config.SplitTarget(target)
		if err != nil {
			if len(target) >= 8 && strings.Contains(err.Error(), target) {
				t.Fatalf("the error %q repeats the target", err)
			}
			return
		}
		if !strings.HasPrefix(clean, "/") || path.Clean(clean) != clean {
			t.Fatalf("SplitTarget(%q) = %q, not clean and rooted", target, clean)
		}
		for _, seg := range strings.Split(clean, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("SplitTarget(%q) = %q, with a dot segment", target, clean)
			}
		}
		if strings.Contains(q, "#") && !strings.Contains(target, "#") {
			t.Fatalf("SplitTarget(%q) made up a fragment in %q", target, q)
		}
		if c, err := config.CleanPath(target); err != nil || c != clean {
			t.Fatalf("CleanPath(%q) = %q, %v; SplitTarget gave %q", target, c, err, clean)
		}
		// A clean path that needs no unescaping is a fixed point.
		if !strings.ContainsAny(clean, "%?") && !strings.ContainsFunc(clean, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			if again, q2, err := config.SplitTarget(clean); err != nil || again != clean || q2 != "" {
				t.Fatalf("SplitTarget(%q) = %q, %q, %v; want it unchanged", clean, again, q2, err)
			}
		}
	})
}

// FuzzRoutePolicy checks route patterns and matching: a pattern that
// NewRoutePolicy accepts matches itself (with each "*" a segment),
// matches only clean paths with as many segments (or more, for a
// trailing "*"), and MatchPath agrees with Match on a clean path.
func FuzzRoutePolicy(f *testing.F) {
	for _, s := range [][3]string{
		{"/v1/agent/*", "GET", "/v1/agent/x/y"},
		{"/v1/agent/*", "get", "/v1/agent"},
		{"/*", "POST", "/"},
		{"/", "GET", "/"},
		{"/a/*/c", "", "/a/b/c"},
		{"/a//b", "GET", "/a//b"},
		{"/a/../b", "GET", "/b"},
		{"/a*", "GET", "/ab"},
		{"a", "GET", "a"},
		{"/x/y/", "PUT", "/x/y"},
		{"/%41", "GET", "/A"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	perms, err := keyward.NewPermissionModel([]string{"monitors:read"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, pattern, method, target string) {
		var methods []string
		if method != "" {
			methods = []string{method}
		}
		p, err := config.NewRoutePolicy([]config.Rule{{Path: pattern, Methods: methods, Permission: "monitors:read"}}, perms)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "routes[0].") {
				t.Fatalf("the error %q does not name the rule", err)
			}
			return
		}
		rule := p.Rules()[0]
		m := "GET"
		if len(rule.Methods) > 0 {
			m = rule.Methods[0]
			if m != strings.ToUpper(strings.TrimSpace(method)) {
				t.Fatalf("method %q became %q", method, m)
			}
		}
		self := strings.ReplaceAll(pattern, "*", "x")
		if _, ok := p.MatchPath(m, self); !ok {
			t.Fatalf("pattern %q does not match %q", pattern, self)
		}
		r1, ok1, err := p.Match(m, target)
		if err != nil {
			return
		}
		clean, _, _ := config.SplitTarget(target)
		r2, ok2 := p.MatchPath(m, clean)
		if ok1 != ok2 || (r1 == nil) != (r2 == nil) {
			t.Fatalf("Match(%q) = %v, MatchPath(%q) = %v", target, ok1, clean, ok2)
		}
		if !ok1 {
			return
		}
		psegs, csegs := segments(pattern), segments(clean)
		last := len(psegs) > 0 && psegs[len(psegs)-1] == "*"
		if !last && len(csegs) != len(psegs) || last && len(csegs) < len(psegs) {
			t.Fatalf("pattern %q matched %q", pattern, clean)
		}
		for i, s := range psegs {
			if s != "*" && s != csegs[i] {
				t.Fatalf("pattern %q matched %q", pattern, clean)
			}
		}
	})
}

func segments(p string) []string {
	if p == "/" {
		return nil
	}
	return strings.Split(strings.TrimPrefix(p, "/"), "/")
}
