package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/credential"
	"github.com/keyward/keyward/internal/response"
)

type ctxKey int

const requestIDKey ctxKey = iota

// requestIDFrom returns the request id that requestID placed in ctx.
func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// requestID gives every request an id, taken from a well-formed incoming
// X-Request-ID or made fresh, and answers it in X-Request-ID.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// validRequestID accepts ids that are safe to log and echo: 1 to 64 of
// letters, digits, '-', '_' and '.'.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// quietRoutes are the verification routes, asked on every request of the
// guarded product (and logged by the proxy in front): their lines are
// logged at debug level unless they fail with a 5xx.
var quietRoutes = map[string]bool{"GET /v1/auth": true, "POST /v1/verify": true}

// logRequests logs one line per request: method, path without its query,
// status, duration and request id. It never logs headers, so neither the
// Authorization header nor X-API-Key, and path segments that look like a
// token are redacted.
func logRequests(s *server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &response.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		level := slog.LevelInfo
		if quietRoutes[r.Pattern] && sw.Status < http.StatusInternalServerError {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", s.redactPath(r.URL.Path)),
			slog.Int("status", sw.Status),
			slog.Int("bytes", sw.Bytes),
			slog.Duration("duration", time.Since(start)),
			slog.String("request_id", requestIDFrom(r.Context())))
	})
}

// redactPath replaces path segments that could be a token of this
// installation, so that a token put in a URL by mistake is not logged.
func (s *server) redactPath(p string) string {
	instance := keyward.DefaultInstancePrefix
	if s.svc != nil {
		instance = s.svc.Format().Instance()
	}
	if !strings.Contains(p, instance+"_") {
		return p
	}
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, instance+"_") {
			parts[i] = "[redacted]"
		}
	}
	return strings.Join(parts, "/")
}

// recoverPanics answers a panic with a 500 "internal error" and logs it
// with the request id and stack.
func recoverPanics(s *server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &response.StatusWriter{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic",
				slog.String("request_id", requestIDFrom(r.Context())),
				slog.String("method", r.Method),
				slog.String("path", s.redactPath(r.URL.Path)),
				slog.String("panic", fmt.Sprint(v)),
				slog.String("stack", string(debug.Stack())))
			if sw.Status == 0 {
				s.error(sw, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}

// refuseTokenInURL returns the 400 token_in_url error for a request that
// carries a token-like query parameter, nil for any other: a URL ends up
// in logs, proxies and browser history, so a token there is never
// accepted. Every route asks it before it looks at a credential.
func refuseTokenInURL(r *http.Request) error {
	if name, ok := credential.TokenInQuery(r.URL.RawQuery); ok {
		return credential.ErrTokenInURL(name)
	}
	return nil
}
