package api

import (
	"net/http"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// getPolicy shows the org's token policy.
func (s *server) getPolicy(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	p, err := s.svc.FindPolicy(r.Context(), c)
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wire.PolicyOut(p))
	return nil
}

// putPolicy replaces the org's token policy. Tokens that break it are
// blocked, not revoked.
func (s *server) putPolicy(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	var req client.Policy
	if err := decode(w, r, &req, bodyRequired); err != nil {
		return err
	}
	p, err := s.svc.SavePolicy(r.Context(), c, wire.PolicyIn(req))
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, wire.PolicyOut(p))
	return nil
}
