package api

import (
	"github.com/keyward/keyward/wire"
	"net/http"

	"github.com/keyward/keyward/service"
)

// whoami describes the caller: user, org, role, token and effective
// permissions.
func (s *server) whoami(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	s.writeJSON(w, r, http.StatusOK, wire.WhoamiOut(c))
	return nil
}
