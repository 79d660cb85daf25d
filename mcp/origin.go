package mcp

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// checkOrigin protects against DNS rebinding: a web page on another site
// whose name resolves to keyward's address must not reach /mcp from a
// browser. It returns "" when r may proceed, or why not.
//
// Host must be the public URL's host or a loopback name; with no public
// URL configured, a request that arrived on a loopback address must name a
// loopback host, and one that arrived on any other address may name any.
// Origin, when present, must be the public URL's origin, a loopback
// origin, or (with no public URL) the origin of the request's own Host.
func (h *handler) checkOrigin(r *http.Request) string {
	if !h.hostAllowed(r) {
		return "Host header does not name this server"
	}
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return ""
	}
	if len(origins) > 1 {
		return "more than one Origin header"
	}
	o, err := url.Parse(origins[0])
	if err != nil || (o.Scheme != "http" && o.Scheme != "https") || o.Host == "" || (o.Path != "" && o.Path != "/") {
		return "Origin header is not an allowed origin"
	}
	switch {
	case isLoopbackHost(o.Host):
		return ""
	case h.public != nil:
		if strings.EqualFold(o.Scheme, h.public.Scheme) && strings.EqualFold(o.Host, h.public.Host) {
			return ""
		}
	case strings.EqualFold(o.Host, r.Host):
		return ""
	}
	return "Origin header is not an allowed origin"
}

// hostAllowed applies the Host rule of checkOrigin.
func (h *handler) hostAllowed(r *http.Request) bool {
	if isLoopbackHost(r.Host) {
		return true
	}
	if h.public != nil {
		return strings.EqualFold(r.Host, h.public.Host)
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return !ok || local == nil || !isLoopbackHost(local.String())
}

// isLoopbackHost reports whether hostport (a Host header or an address,
// with or without a port) names this machine: localhost or a loopback IP.
func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
