package api

import (
	"fmt"
	"net/http"
	"net/netip"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// verify answers a resource server's question about a token presented to
// it: POST /v1/verify. A refused token is a 200 with valid false.
func (s *server) verify(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
	var in client.VerifyRequest
	if err := decode(w, r, &in, bodyRequired); err != nil {
		return err
	}
	req, err := verifyRequestIn(in)
	if err != nil {
		return err
	}
	start := time.Now()
	v, err := s.svc.Verify(r.Context(), c, req)
	if err != nil {
		return err
	}
	s.limitVerdict(r, &v)
	s.metrics.Verification("verify", v.Code.String(), time.Since(start))
	s.writeJSON(w, r, http.StatusOK, verificationOut(&v))
	return nil
}

// limitVerdict counts a valid verdict against its token's budget (the
// verifying key's own request was counted when it authenticated): a spent
// budget makes it RATE_LIMITED.
func (s *server) limitVerdict(r *http.Request, v *service.Verdict) {
	if s.limits.Limiter == nil || !v.Valid() {
		return
	}
	id, ok := v.Identity()
	if !ok {
		return
	}
	limit := s.limits.TokenLimit(id.RateLimit)
	if limit <= 0 {
		return
	}
	res, err := s.limits.Limiter.Allow(r.Context(), httplimit.TokenKey(id.TokenID), limit, s.limits.Period())
	if err != nil || res.Allowed {
		return
	}
	v.RateLimit(fmt.Sprintf("the token has spent its rate limit of %d requests %s; retry after %d seconds",
		limit, httplimit.Per(s.limits.Period()), httplimit.RetrySeconds(res.RetryAfter)))
}

func verifyRequestIn(in client.VerifyRequest) (service.VerifyRequest, error) {
	out := service.VerifyRequest{Token: in.Token, Permission: in.Permission}
	if in.Entity != nil {
		out.Entity = &service.Entity{Type: in.Entity.EntityType, ID: in.Entity.EntityID, Operation: in.Entity.Operation}
	}
	if in.IP != "" {
		ip, err := netip.ParseAddr(in.IP)
		if err != nil {
			return out, keyward.Errorf(keyward.EINVALID, "ip must be an IPv4 or IPv6 address")
		}
		out.IP = ip.Unmap()
	}
	return out, nil
}

// verificationOut is a verdict as the API shows it: never the secret.
func verificationOut(v *service.Verdict) client.Verification {
	out := client.Verification{Valid: v.Valid(), Code: v.Code.String(), Message: v.Message, Permissions: []string{}}
	// An active token's caller carries its record: one copy, not two.
	var t *keyward.Token
	if c := v.Caller(); c != nil {
		out.Role = wire.OptString(string(c.Role))
		out.Permissions = append(out.Permissions, c.Permissions...)
		t = c.Token
	} else {
		t = v.Token()
	}
	if t != nil {
		to := wire.TokenOut(t)
		out.Token = &to
	}
	return out
}
