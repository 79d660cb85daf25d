package api

import (
	"net/http"
	"time"

	"github.com/keyward/keyward/internal/response"
)

// countRequests records every request in the metrics by the route pattern
// that served it (the ServeMux sets it on the request it is given, which is
// this one), never by its path, so ids do not become labels.
func countRequests(s *server, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &response.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.Status
		if status == 0 {
			status = http.StatusOK
		}
		s.metrics.Request(r.Pattern, r.Method, status, time.Since(start))
	})
}

// serveMetrics serves the Prometheus metrics.
func (s *server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.Handler().ServeHTTP(w, r)
}
