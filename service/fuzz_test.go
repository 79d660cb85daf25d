package service

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
)

// tokenLike returns the runs of letters, digits and '_' in s of 12 or
// more: what could be (part of) a pasted secret.
func tokenLike(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		if len(f) >= 12 {
			out = append(out, f)
		}
	}
	return out
}

// noEcho fails t when err repeats a token-like part of in.
func noEcho(t *testing.T, err error, in string) {
	t.Helper()
	for _, w := range tokenLike(in) {
		if strings.Contains(err.Error(), w) || strings.Contains(keyward.ErrorDetail(err), w) {
			t.Fatalf("the error %q repeats %q from the input", err, w)
		}
	}
}

// FuzzValidateScope checks the scopes every front end mints with: a
// valid scope is trimmed, of a known alphabet, with known operations and
// no repeats, and validates again to itself; an error is EINVALID and
// never repeats the entity id.
func FuzzValidateScope(f *testing.F) {
	f.Add("monitor", "*", "read,list")
	f.Add(" monitor ", " m1 ", "read,read")
	f.Add("Monitor", "m1", "read")
	f.Add("monitor", "", "read")
	f.Add("monitor", "kw_pat_0123456789abcdefghijABCDEFGHIJ012345", "steal")
	f.Add("monitor", "a\x00b", "read")
	f.Add("monitor", strings.Repeat("x", 201), "read")
	f.Add("m", "x", "")
	f.Fuzz(func(t *testing.T, typ, id, ops string) {
		var opList []string
		if ops != "" {
			opList = strings.Split(ops, ",")
		}
		sc, err := validateScope(ScopeRequest{EntityType: typ, EntityID: id, Operations: opList})
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EINVALID {
				t.Fatalf("got code %s", keyward.ErrorCode(err))
			}
			noEcho(t, err, id)
			noEcho(t, err, ops)
			return
		}
		if !keyward.ValidIdentifier(sc.EntityType) || sc.EntityType != strings.TrimSpace(typ) {
			t.Fatalf("entity type %q from %q", sc.EntityType, typ)
		}
		if sc.EntityID == "" || sc.EntityID != strings.TrimSpace(id) || len(sc.EntityID) > maxEntityLen || strings.ContainsFunc(sc.EntityID, isControl) {
			t.Fatalf("entity id %q from %q", sc.EntityID, id)
		}
		if len(sc.Operations) == 0 || len(slices.Compact(slices.Sorted(slices.Values(sc.Operations)))) != len(sc.Operations) {
			t.Fatalf("operations %q from %q", sc.Operations, ops)
		}
		for _, op := range sc.Operations {
			if !slices.Contains(keyward.Operations, op) {
				t.Fatalf("unknown operation %q accepted", op)
			}
		}
		again, err := validateScope(ScopeRequest{EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: sc.Operations})
		if err != nil || again.EntityType != sc.EntityType || again.EntityID != sc.EntityID || !slices.Equal(again.Operations, sc.Operations) {
			t.Fatalf("%+v validates again to %+v, %v", sc, again, err)
		}
	})
}

// FuzzExpiry checks expires_in and expires_at against a fixed now: an
// accepted expiry is at least a minute ahead and at most MaxExpiryYears;
// an error is EINVALID and never repeats expires_in.
func FuzzExpiry(f *testing.F) {
	f.Add("30d", int64(0), false)
	f.Add("", int64(1900000000), true)
	f.Add("", int64(253402300799), true) // 9999-12-31T23:59:59Z
	f.Add("3650d", int64(0), false)
	f.Add("3660d", int64(0), false)
	f.Add("59s", int64(0), false)
	f.Add("kw_pat_0123456789abcdefghijABCDEFGHIJ012345", int64(0), false)
	f.Add("1d", int64(1900000000), true)
	f.Add("", int64(-62135596800), true)
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string, at int64, hasAt bool) {
		var atp *time.Time
		if hasAt {
			a := time.Unix(at, 0)
			atp = &a
		}
		got, err := expiry(in, atp, now)
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EINVALID {
				t.Fatalf("got code %s", keyward.ErrorCode(err))
			}
			noEcho(t, err, in)
			return
		}
		if got == nil {
			if in != "" || hasAt {
				t.Fatalf("expiry(%q, %v) = none", in, atp)
			}
			return
		}
		if got.Before(now.Add(time.Second)) || got.After(maxExpiry(now)) {
			t.Fatalf("expiry(%q, %v) = %v, outside (now, now+%dy]", in, atp, got, MaxExpiryYears)
		}
		if in != "" && got.Sub(now) < time.Minute {
			t.Fatalf("expiry(%q) = %v, less than a minute ahead", in, got)
		}
	})
}

// FuzzValidateRedirectURI checks the redirect URIs that registration and
// client metadata documents carry: an accepted one is an absolute https
// URI, or http on a loopback host, without user information or
// fragment, and a registered client matches it; an error never repeats it.
func FuzzValidateRedirectURI(f *testing.F) {
	for _, s := range []string{
		"https://app.example.com/cb", "http://127.0.0.1:8765/callback", "http://[::1]/cb", "http://localhost/cb",
		"http://example.com/cb", "https://u:p@h/cb", "https://h/cb#x", "javascript:alert(1)", "https:///x", "https://h/ x",
		"HTTPS://h/cb", "https://h:99999/", "http://127.0.0.1.evil.com/", "http://localhost:1/cb?x=1", "//h/cb",
		"https://h/kw_pat_0123456789abcdefghijABCDEFGHIJ012345",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := ValidateRedirectURI(raw)
		if err != nil {
			if keyward.ErrorCode(err) != OAuthInvalidRedirectURI {
				t.Fatalf("got code %s", keyward.ErrorCode(err))
			}
			noEcho(t, err, raw)
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
			t.Fatalf("accepted %q", raw)
		}
		if !(u.Scheme == "https" || u.Scheme == "http" && loopbackHost(u.Hostname())) {
			t.Fatalf("accepted %q with scheme %q host %q", raw, u.Scheme, u.Hostname())
		}
		if !RedirectURIMatches(&keyward.OAuthClient{RedirectURIs: []string{raw}}, raw) {
			t.Fatalf("a client registered with %q does not match it", raw)
		}
	})
}

// FuzzOAuthScope checks the scope parameter of an authorization request:
// an accepted scope is a sorted set of known permissions, the same for
// every spelling with more spaces; an error never repeats the scope.
func FuzzOAuthScope(f *testing.F) {
	for _, s := range []string{
		"", " ", "tokens:read", "tokens:read  tokens:write", "tokens:read,tokens:write", "monitors:read agent:heartbeat",
		"tokens:read\ttokens:write", "unknown:x", "kw_pat_0123456789abcdefghijABCDEFGHIJ012345", strings.Repeat("a ", 501),
	} {
		f.Add(s)
	}
	perms, err := keyward.NewPermissionModel([]string{"monitors:read", "monitors:write", "agent:heartbeat"})
	if err != nil {
		f.Fatal(err)
	}
	s := &Service{perms: perms}
	f.Fuzz(func(t *testing.T, scope string) {
		got, err := s.OAuthScope(scope)
		if err != nil {
			if keyward.ErrorCode(err) != OAuthInvalidScope {
				t.Fatalf("got code %s", keyward.ErrorCode(err))
			}
			noEcho(t, err, scope)
			return
		}
		if len(got) == 0 || !slices.IsSorted(got) || !slices.Equal(keyward.NewPermissions(got...), got) {
			t.Fatalf("OAuthScope(%q) = %q", scope, got)
		}
		for _, p := range got {
			if !perms.Known(p) {
				t.Fatalf("OAuthScope(%q) holds unknown %q", scope, p)
			}
		}
		if len(scope) < maxScopeLen {
			if again, err := s.OAuthScope(strings.Join(got, " ") + " "); err != nil || !slices.Equal(again, got) {
				t.Fatalf("OAuthScope(%q) = %q; written back it gives %q, %v", scope, got, again, err)
			}
		}
	})
}
