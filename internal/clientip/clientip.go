// Package clientip finds the address of the client that sent a request,
// past the reverse proxies an operator trusts. It is the one place the
// front ends (API, dashboard, MCP, OAuth) read a client address from, so
// that throttling, allowlists and the audit log agree on it.
package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Resolver reads client addresses behind a set of trusted proxies. A nil
// *Resolver trusts no proxy: the address is the socket's peer.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that believes X-Forwarded-For and X-Real-IP only
// from peers in trusted.
func New(trusted []netip.Prefix) *Resolver {
	return &Resolver{trusted: append([]netip.Prefix(nil), trusted...)}
}

// Addr is the address of the client that sent r. It is the socket's peer,
// unless that peer is in one of the trusted proxies' networks: then it is
// the right-most address of X-Forwarded-For that is not a trusted proxy
// (the one the nearest trusted proxy saw), or X-Real-IP when there is no
// X-Forwarded-For. A client can write anything into the left of
// X-Forwarded-For, so nothing left of the first untrusted address counts,
// and a malformed hop stops the walk at the last address known good. The
// zero Addr means the peer's address could not be read.
func (res *Resolver) Addr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if !res.trusts(peer) {
		return peer
	}
	// The header names are canonical already: these are read on every
	// GET /v1/auth behind a trusted proxy.
	if xff := r.Header["X-Forwarded-For"]; len(xff) > 0 {
		// Several headers are one list, in order: walk it from the right,
		// header by header, without joining or splitting it.
		for j := len(xff) - 1; j >= 0; j-- {
			list := xff[j]
			for {
				i := strings.LastIndexByte(list, ',')
				a, err := netip.ParseAddr(strings.TrimSpace(list[i+1:]))
				if err != nil {
					return peer
				}
				a = a.Unmap()
				if !res.trusts(a) {
					return a
				}
				peer = a
				if i < 0 {
					break
				}
				list = list[:i]
			}
		}
		return peer // every hop is trusted: the left-most is the client
	}
	if v := r.Header["X-Real-Ip"]; len(v) > 0 {
		if a, err := netip.ParseAddr(strings.TrimSpace(v[0])); err == nil {
			return a.Unmap()
		}
	}
	return peer
}

// String is Addr as text, "" when the peer's address could not be read.
func (res *Resolver) String(r *http.Request) string {
	a := res.Addr(r)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func (res *Resolver) trusts(a netip.Addr) bool {
	if res == nil {
		return false
	}
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
