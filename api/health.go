package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// readyTimeout bounds the database check of /readyz.
const readyTimeout = 2 * time.Second

// healthz answers 200 while the process serves.
func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, client.Health{Status: "ok"})
}

// readyz answers 200 when the database answers, else 503 unavailable.
func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := s.svc.Ping(ctx); err != nil {
		// An unreachable database is logged once, by the store.
		level := slog.LevelWarn
		if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "not ready",
			slog.String("request_id", requestIDFrom(r.Context())), slog.String("err", fmt.Errorf("ping: %w", err).Error()))
		s.error(w, r, &keyward.Error{Code: keyward.EUNAVAILABLE, Message: "the database does not answer"})
		return
	}
	// Past --max-staleness, this node may miss a revocation made on
	// another: not ready, whether it fails closed or open.
	if age, stale := s.svc.Verifier().Staleness(); stale {
		s.error(w, r, &keyward.Error{Code: keyward.EUNAVAILABLE, Message: "this node is behind the change feed",
			Detail: "last caught up " + age.Round(time.Second).String() + " ago"})
		return
	}
	s.writeJSON(w, r, http.StatusOK, client.Health{Status: "ok"})
}

// serveOpenAPI answers the OpenAPI 3.1 document of this API.
func (s *server) serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
}
