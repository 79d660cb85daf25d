package api

import (
	"net/http"

	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// whoami describes the caller: user, org, role, token and effective
// permissions.
func (s *server) whoami(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	s.writeJSON(w, r, http.StatusOK, wire.WhoamiOut(c))
	return nil
}
