package clientip_test

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/clientip"
)

// FuzzAddr resolves fuzzed X-Forwarded-For and X-Real-IP headers behind
// a trusted proxy. The answer is always an address, the peer's when the
// peer is not trusted, and otherwise the peer or one that the headers
// name; it is never a trusted proxy's unless every hop is trusted.
func FuzzAddr(f *testing.F) {
	f.Add("127.0.0.1:5000", "203.0.113.5, 10.1.1.1", "", "198.51.100.9")
	f.Add("127.0.0.1:5000", "198.51.100.1, 203.0.113.5", "10.0.0.2", "")
	f.Add("[::1]:80", "::ffff:203.0.113.5", "", "")
	f.Add("192.0.2.1:5000", "203.0.113.5", "", "")
	f.Add("127.0.0.1:5000", "", "", " 203.0.113.7 ")
	f.Add("127.0.0.1:5000", "garbage, 10.0.0.1", "", "")
	f.Add("127.0.0.1:5000", ",,,", "", "")
	f.Add("127.0.0.1:5000", "10.0.0.2, 10.0.0.3", "", "")
	f.Add("not an address", "203.0.113.5", "", "")
	f.Add("[fe80::1%eth0]:1", "fe80::2%lo, 10.0.0.1", "", "")
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	res := clientip.New(trusted)
	trusts := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	f.Fuzz(func(t *testing.T, peer, xff1, xff2, realIP string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		var named []netip.Addr
		for _, v := range []string{xff1, xff2} {
			if v != "" {
				r.Header.Add("X-Forwarded-For", v)
				for _, s := range strings.Split(v, ",") {
					if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil {
						named = append(named, a.Unmap())
					}
				}
			}
		}
		if realIP != "" {
			r.Header.Set("X-Real-IP", realIP)
			if a, err := netip.ParseAddr(strings.TrimSpace(realIP)); err == nil {
				named = append(named, a.Unmap())
			}
		}
		got := res.Addr(r)
		ap, err := netip.ParseAddrPort(peer)
		if err != nil {
			if got.IsValid() {
				t.Fatalf("peer %q is not an address, got %v", peer, got)
			}
			return
		}
		p := ap.Addr().Unmap()
		if !got.IsValid() {
			t.Fatalf("no address for peer %q", peer)
		}
		if got.Is4In6() {
			t.Fatalf("got %v, not unmapped", got)
		}
		if !trusts(p) {
			if got != p {
				t.Fatalf("untrusted peer %v: got %v", p, got)
			}
			return
		}
		if got != p && !containsAddr(named, got) {
			t.Fatalf("got %v, neither the peer %v nor in the headers %q %q %q", got, p, xff1, xff2, realIP)
		}
		if s := res.String(r); s != got.String() {
			t.Fatalf("String = %q, Addr = %v", s, got)
		}
		var nilRes *clientip.Resolver
		if a := nilRes.Addr(r); a != p {
			t.Fatalf("a nil Resolver gave %v, want the peer %v", a, p)
		}
	})
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}
