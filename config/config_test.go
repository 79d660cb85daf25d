package config_test

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/config"
)

const example = `
# The product's own permissions.
permissions: [monitors:read, monitors:write, agent:heartbeat]
trusted_proxies: [127.0.0.1, 10.0.0.0/8, "::1"]
routes:
  - path: /v1/agent/*
    kinds: [agent]
    permission: agent:heartbeat
  - methods: [get, HEAD]
    path: /v1/monitors/*
    permission: monitors:read
  - methods: [POST]
    path: /v1/monitors
    permission: monitors:write
    kinds: [pat, oauth, api_key]
  - path: /v1/*/public
  - path: /
`

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "keyward.yaml")
	if err := os.WriteFile(p, []byte(example), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if want := []string{"monitors:read", "monitors:write", "agent:heartbeat"}; !slices.Equal(cfg.Permissions, want) {
		t.Errorf("permissions: got %v, want %v", cfg.Permissions, want)
	}
	wantProxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if !slices.Equal(cfg.TrustedProxies, wantProxies) {
		t.Errorf("trusted_proxies: got %v, want %v", cfg.TrustedProxies, wantProxies)
	}
	tests := []struct {
		method, uri string
		want        int // index of the rule, -1 for none
	}{
		{"GET", "/v1/agent/hb", 0},
		{"POST", "/v1/agent/a/b/c?x=1", 0},
		{"GET", "/v1/agent", -1},
		{"GET", "/v1/monitors/7", 1},
		{"HEAD", "/v1/monitors/7/checks", 1},
		{"DELETE", "/v1/monitors/7", -1},
		{"POST", "/v1/monitors", 2},
		{"POST", "/v1/monitors/", 2}, // cleaned
		{"GET", "/v1/x/public", 3},
		{"GET", "/v1/x/y/public", -1},
		{"GET", "/", 4},
		{"GET", "/x", -1},
		{"GET", "/v1/x/public/more", -1},
		{"GET", "/v1//x///public", 3},                   // cleaned
		{"GET", "/v1/agent/", -1},                       // cleaned to /v1/agent
		{"GET", "/v1/agent/../monitors/1", 1},           // judged as cleaned
		{"GET", "/v1/agent%2F..%2F..%2Fv1/x/public", 3}, // unescaped, then cleaned
		{"GET", "http://example.com/v1/agent/x", 0},
		{"GET", "//v1/agent/x", 0},               // a path, not the host "v1"
		{"GET", "//example.com/v1/x/public", -1}, // the path //example.com/v1/x/public
		{"GET", "/v1/agent/x#/../../y", -1},      // "#" is part of a target's path: /v1/y
	}
	rules := cfg.Routes.Rules()
	for _, tt := range tests {
		r, ok, err := cfg.Routes.Match(tt.method, tt.uri)
		if err != nil {
			t.Errorf("Match(%s %s): %v", tt.method, tt.uri, err)
			continue
		}
		got := -1
		if ok {
			got = slices.IndexFunc(rules, func(x config.Rule) bool { return x.Path == r.Path && slices.Equal(x.Methods, r.Methods) })
		}
		if got != tt.want {
			t.Errorf("Match(%s %s): got rule %d, want %d", tt.method, tt.uri, got, tt.want)
		}
	}
	if rules[1].Methods[0] != "GET" {
		t.Errorf("methods are upper-cased: got %v", rules[1].Methods)
	}
	if !slices.Equal(rules[2].Kinds, []keyward.Kind{keyward.KindPAT, keyward.KindOAuth, keyward.KindAPIKey}) {
		t.Errorf("kinds: got %v", rules[2].Kinds)
	}
}

func TestNoRoutesNoPolicy(t *testing.T) {
	cfg, err := config.Parse([]byte(`{"permissions": ["monitors:read"]}`)) // JSON is YAML too
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Routes != nil {
		t.Errorf("no routes: got a policy, want none")
	}
	if cfg, err = config.Parse(nil); err != nil || cfg.Routes != nil || len(cfg.TrustedProxies) != 0 {
		t.Errorf("empty file: got %+v, %v; want an empty configuration", cfg, err)
	}
}

// The identity headers: the default when absent, none for [], else the
// ones named, in their order.
func TestIdentityHeaders(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"identity_headers: []", []string{}},
		{"identity_headers: [org_slug, kind, token_id]", []string{"org_slug", "kind", "token_id"}},
	} {
		cfg, err := config.Parse([]byte(tt.in))
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if !slices.Equal(cfg.IdentityHeaders, tt.want) || (cfg.IdentityHeaders == nil) != (tt.want == nil) {
			t.Errorf("%q: got %#v, want %#v", tt.in, cfg.IdentityHeaders, tt.want)
		}
	}
}

func TestBadConfig(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unknown field", "permisions: [a:b]", "line 1: field permisions not found"},
		{"bad permission", "permissions: [Monitors]", `permissions: permission "Monitors" is not of the form resource:action`},
		{"builtin permission", "permissions: [tokens:read]", `permission "tokens:read" is keyward's own`},
		{"bad proxy", "trusted_proxies: [10.0.0.0/33]", `trusted_proxies: "10.0.0.0/33" is not an address or a CIDR`},
		{"bad method", "routes: [{path: /a, methods: [G3T]}]", `routes[0].methods[0]: "G3T" is not an HTTP method`},
		{"relative path", "routes: [{path: a/b}]", `routes[0].path: "a/b" must start with /`},
		{"empty segment", "routes: [{path: /a//b}]", `routes[0].path: "/a//b" has an empty segment`},
		{"partial star", "routes: [{path: /a/b*}]", `routes[0].path: "/a/b*": * must be a whole segment`},
		{"dot dot", "routes: [{path: /a/../b}]", `routes[0].path: "/a/../b" has a . or .. segment`},
		{"unknown permission", "routes: [{path: /a}, {path: /b, permission: monitors:read}]", `routes[1].permission: unknown permission "monitors:read"`},
		{"unknown kind", "routes: [{path: /a, kinds: [robot]}]", `routes[0].kinds[0]: unknown kind "robot"`},
		{"two documents", "permissions: [a:b]\n---\npermissions: [c:d]\n", "more than one document"},
		{"not yaml", "routes: [", "did not find expected"},
		{"wrong type", "routes: {path: /a}", "line 1: cannot unmarshal"},
		{"unknown identity header", "identity_headers: [token_id, email]", `identity_headers: unknown "email": want some of token_id, kind,`},
		{"identity header twice", "identity_headers: [role, role]", `identity_headers: "role" twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: got %v, want an error naming it", err)
	}
	p := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(p, []byte("routes: [{path: x}]"), 0o600)
	if _, err := config.Load(p); err == nil || !strings.HasPrefix(err.Error(), "configuration "+p+": routes[0].path") {
		t.Errorf("bad file: got %v, want an error naming the file and the field", err)
	}
}

func TestSplitTarget(t *testing.T) {
	tests := []struct {
		target, clean, query string
	}{
		{"/monitors/1", "/monitors/1", ""},
		{"/monitors/1?page=2&x", "/monitors/1", "page=2&x"},
		{"/monitors/1?", "/monitors/1", ""},
		{"//monitors/1", "/monitors/1", ""},
		{"///monitors//1/", "/monitors/1", ""},
		{"/a/./b/../c?q=%2F", "/a/c", "q=%2F"},
		{"/a%2Fb?c", "/a/b", "c"},
		{"/a%20b", "/a b", ""},
		{"http://example.com/x/../y?z=1", "/y", "z=1"},
		{"http://example.com", "/", ""},
		{"relative/path", "/relative/path", ""},
		{"*", "/*", ""},
	}
	for _, tt := range tests {
		clean, query, err := config.SplitTarget(tt.target)
		if err != nil || clean != tt.clean || query != tt.query {
			t.Errorf("SplitTarget(%q): got %q, %q, %v; want %q, %q", tt.target, clean, query, err, tt.clean, tt.query)
		}
	}
	for _, bad := range []string{"", "/a%zz", "/a\x00b", "/a?b\nc", "/a\x7f", "http://ex ample.com/", "http://example.com/\x01"} {
		if clean, query, err := config.SplitTarget(bad); err == nil {
			t.Errorf("SplitTarget(%q): got %q, %q, want an error", bad, clean, query)
		}
	}
}
