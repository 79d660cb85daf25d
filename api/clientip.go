package api

import (
	"net/http"
	"net/netip"
	"strings"
)

// realIPHeaders is X-Real-IP, canonical, for firstHeader.
var realIPHeaders = []string{"X-Real-Ip"}

// clientIP is the address of the client that sent r (see ClientIP).
func (s *server) clientIP(r *http.Request) netip.Addr { return ClientIP(r, s.proxies) }

// ClientIP is the address of the client that sent r. It is the socket's
// peer, unless that peer is in one of the trusted proxies' networks: then
// it is the right-most address of X-Forwarded-For that is not a trusted
// proxy (the one the nearest trusted proxy saw), or X-Real-IP when there
// is no X-Forwarded-For. A client can write anything into the left of
// X-Forwarded-For, so nothing left of the first untrusted address counts.
// The zero Addr means the peer's address could not be read.
func ClientIP(r *http.Request, trustedProxies []netip.Prefix) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	trusted := func(a netip.Addr) bool {
		for _, p := range trustedProxies {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	peer := ap.Addr().Unmap()
	if !trusted(peer) {
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
					// Garbage where an address belongs: the hop that wrote it
					// is not to be believed; stop at the last address known
					// good.
					return peer
				}
				a = a.Unmap()
				if !trusted(a) {
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
	if real := firstHeader(r.Header, realIPHeaders); real != "" {
		if a, err := netip.ParseAddr(real); err == nil {
			return a.Unmap()
		}
	}
	return peer
}
