// Package response holds what every HTTP front end of keyward writes the
// same way: the security headers of an answer that may hold a secret, and
// a writer that records the status and size of an answer for the request
// log and the metrics.
package response

import "net/http"

// StatusWriter remembers the status and the body size written through
// it, for the request logs of the API, the dashboard and MCP.
type StatusWriter struct {
	http.ResponseWriter
	// Status is the status written, 0 before the answer starts.
	Status int
	// Bytes counts the body's bytes written.
	Bytes int
}

// WriteHeader records status and writes it.
func (w *StatusWriter) WriteHeader(status int) {
	if w.Status == 0 {
		w.Status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write records a 200 if no status was written, and counts b.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer (to
// flush streamed answers).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SecurityHeaders sets the headers every answer carries: nothing is
// cached (answers may hold a secret), sniffed, framed or referred.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SetSecurityHeaders(w.Header())
		next.ServeHTTP(w, r)
	})
}

// SetSecurityHeaders sets the headers of SecurityHeaders on h, for an
// answer written outside that middleware.
func SetSecurityHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
}

// RetryAfter is the Retry-After of a 503: the database or the change feed
// is unavailable, and a few seconds is how soon a retry may succeed (the
// follower polls every 2 s, the listener reconnects within 5 s).
const RetryAfter = "5"

// SetRetryAfter sets Retry-After on a 503 answer.
func SetRetryAfter(h http.Header, status int) {
	if status == http.StatusServiceUnavailable {
		h.Set("Retry-After", RetryAfter)
	}
}
