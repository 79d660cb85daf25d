package api

import (
	"log/slog"
	"net/http"
)

// Patterns returns every route pattern of routes.go, for the tests that
// compare them with openapi.json.
func Patterns() []string {
	var out []string
	for _, rt := range (&server{}).routes() {
		out = append(out, rt.pattern)
	}
	return out
}

// WithMiddleware wraps h in the server's middleware, as NewServer does,
// so tests can drive a handler that panics.
func WithMiddleware(logger *slog.Logger, h http.Handler) http.Handler {
	s := &server{log: logger}
	return s.chain(h)
}
