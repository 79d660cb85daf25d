package api

import (
	"net/http"
	"net/netip"
	"strings"
)

// clientIP is the address of the client that sent r. It is the socket's
// peer, unless that peer is a trusted proxy: then it is the right-most
// address of X-Forwarded-For that is not a trusted proxy (the one the
// nearest trusted proxy saw), or X-Real-IP when there is no
// X-Forwarded-For. A client can write anything into the left of
// X-Forwarded-For, so nothing left of the first untrusted address counts.
func (s *server) clientIP(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	peer := ap.Addr().Unmap()
	if !s.trusted(peer) {
		return peer
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		// Several headers are one list, in order.
		parts := strings.Split(strings.Join(xff, ","), ",")
		for i := len(parts) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
			if err != nil {
				// Garbage where an address belongs: the hop that wrote it is
				// not to be believed; stop at the last address known good.
				return peer
			}
			a = a.Unmap()
			if !s.trusted(a) {
				return a
			}
			peer = a
		}
		return peer // every hop is trusted: the left-most is the client
	}
	if real := strings.TrimSpace(r.Header.Get("X-Real-IP")); real != "" {
		if a, err := netip.ParseAddr(real); err == nil {
			return a.Unmap()
		}
	}
	return peer
}

func (s *server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
