package clientip_test

import (
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/keyward/keyward/internal/clientip"
)

func TestAddr(t *testing.T) {
	trusted := clientip.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")})
	type hdr struct{ name, value string }
	xff := func(v string) hdr { return hdr{"X-Forwarded-For", v} }
	tests := []struct {
		name    string
		res     *clientip.Resolver
		peer    string
		headers []hdr
		want    string
	}{
		{"untrusted peer: headers ignored", trusted, "192.0.2.1:5000", []hdr{xff("203.0.113.5")}, "192.0.2.1"},
		{"no resolver trusts nobody", nil, "127.0.0.1:5000", []hdr{xff("203.0.113.5")}, "127.0.0.1"},
		{"no proxies trusts nobody", clientip.New(nil), "127.0.0.1:5000", []hdr{{"X-Real-IP", "203.0.113.5"}}, "127.0.0.1"},
		{"no header: the proxy itself", trusted, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"one hop", trusted, "127.0.0.1:5000", []hdr{xff("203.0.113.5")}, "203.0.113.5"},
		{"through a trusted inner proxy", trusted, "127.0.0.1:5000", []hdr{xff("203.0.113.5, 10.1.1.1")}, "203.0.113.5"},
		{"spoofed left part ignored", trusted, "127.0.0.1:5000", []hdr{xff("198.51.100.1, 203.0.113.5")}, "203.0.113.5"},
		{"two headers are one list", trusted, "127.0.0.1:5000", []hdr{xff("203.0.113.5"), xff("198.51.100.1")}, "198.51.100.1"},
		{"every hop trusted: the left-most", trusted, "127.0.0.1:5000", []hdr{xff("10.0.0.2, 10.0.0.3")}, "10.0.0.2"},
		{"garbage stops at the last good hop", trusted, "127.0.0.1:5000", []hdr{xff("203.0.113.5, garbage")}, "127.0.0.1"},
		{"an empty header is garbage", trusted, "127.0.0.1:5000", []hdr{xff("203.0.113.5"), xff("")}, "127.0.0.1"},
		{"X-Real-IP", trusted, "127.0.0.1:5000", []hdr{{"X-Real-IP", " 203.0.113.9 "}}, "203.0.113.9"},
		{"X-Forwarded-For before X-Real-IP", trusted, "127.0.0.1:5000", []hdr{{"X-Real-IP", "203.0.113.9"}, xff("198.51.100.1")}, "198.51.100.1"},
		{"IPv4 in IPv6 is unmapped", trusted, "[::ffff:127.0.0.1]:5000", []hdr{xff("::ffff:203.0.113.5")}, "203.0.113.5"},
		{"IPv6", trusted, "[2001:db8::1]:5000", nil, "2001:db8::1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.peer
		for _, h := range tt.headers {
			r.Header.Add(h.name, h.value)
		}
		if got := tt.res.String(r); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "not an address"
	if a := trusted.Addr(r); a.IsValid() || trusted.String(r) != "" {
		t.Errorf("an unreadable peer: got %v, want the zero Addr and \"\"", a)
	}
}
