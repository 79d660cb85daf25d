// Package config reads keyward's configuration file: the guarded product's
// own permissions, the trusted proxies whose X-Forwarded-For is believed,
// and the route policy that GET /v1/auth applies. The file is YAML (and so
// also JSON); unknown fields and bad values are errors that name the file,
// the line where the decoder knows it, and the field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/keyward/keyward"
	"go.yaml.in/yaml/v3"
)

// Config is a validated configuration.
type Config struct {
	// Permissions are the guarded product's own permissions
	// ("monitors:read", "agent:heartbeat").
	Permissions []string
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// Routes is the route policy of forward-auth; nil admits any active
	// token on any route.
	Routes *RoutePolicy
	// IdentityHeaders names the identity headers of a 200 from
	// forward-auth (fields of IdentityFields), in order; nil means
	// DefaultIdentityHeaders.
	IdentityHeaders []string
}

// IdentityFields are the identity headers forward-auth can answer with:
// token_id is X-Keyward-Token-Id, and so on.
var IdentityFields = []string{"token_id", "kind", "org_id", "org_slug", "user_id", "role", "agent_id", "permissions"}

// DefaultIdentityHeaders are the identity headers answered unless the
// file names others: with the three rate limit headers they stay within
// the eight entries a Go map holds before it outgrows its first group,
// which a proxy's question before every request pays for twice (the
// answer's headers are copied when its status is written). The token's
// kind is in its own string's prefix, and the org's slug is its id's.
var DefaultIdentityHeaders = []string{"token_id", "org_id", "user_id", "role", "agent_id", "permissions"}

// file is the configuration file as written.
type file struct {
	Permissions    []string   `yaml:"permissions"`
	TrustedProxies []string   `yaml:"trusted_proxies"`
	Routes         []fileRule `yaml:"routes"`
	// IdentityHeaders is nil when absent, empty for "[]".
	IdentityHeaders []string `yaml:"identity_headers"`
}

type fileRule struct {
	Methods    []string `yaml:"methods"`
	Path       string   `yaml:"path"`
	Permission string   `yaml:"permission"`
	Kinds      []string `yaml:"kinds"`
}

// Load reads and validates the configuration file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the configuration: %w", err)
	}
	cfg, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return cfg, nil
}

// Parse validates a configuration held in b.
func Parse(b []byte) (*Config, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more any
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("holds more than one document")
	}
	cfg := &Config{Permissions: f.Permissions}
	perms, err := keyward.NewPermissionModel(f.Permissions)
	if err != nil {
		return nil, fmt.Errorf("permissions: %s", keyward.ErrorMessage(err))
	}
	if cfg.TrustedProxies, err = ParsePrefixes(f.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted_proxies: %w", err)
	}
	if len(f.Routes) > 0 {
		rules := make([]Rule, len(f.Routes))
		for i, r := range f.Routes {
			rules[i] = Rule{Methods: r.Methods, Path: r.Path, Permission: r.Permission}
			for _, k := range r.Kinds {
				rules[i].Kinds = append(rules[i].Kinds, keyward.Kind(k))
			}
		}
		if cfg.Routes, err = NewRoutePolicy(rules, perms); err != nil {
			return nil, err
		}
	}
	if f.IdentityHeaders != nil {
		cfg.IdentityHeaders = []string{}
		for _, name := range f.IdentityHeaders {
			if !slices.Contains(IdentityFields, name) {
				return nil, fmt.Errorf("identity_headers: unknown %q: want some of %s", name, strings.Join(IdentityFields, ", "))
			}
			if slices.Contains(cfg.IdentityHeaders, name) {
				return nil, fmt.Errorf("identity_headers: %q twice", name)
			}
			cfg.IdentityHeaders = append(cfg.IdentityHeaders, name)
		}
	}
	return cfg, nil
}

// ParsePrefixes reads networks in CIDR notation; a bare address stands for
// itself alone. It is for trusted proxies in the file and on the command
// line.
func ParsePrefixes(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or a CIDR such as 10.0.0.0/8", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
