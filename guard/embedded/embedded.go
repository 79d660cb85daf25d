// Package embedded verifies tokens for the guard package from keyward's
// service in the same process, over the same database as the keyward
// servers, without HTTP: a guard.Verifier for a resource server that
// opens keyward's database itself.
//
// The service's own verification cache answers, kept true by following
// the change feed (service.Follow), so a revocation made by any keyward
// node is seen within the feed's poll interval (200 ms by default, at
// once on PostgreSQL with its listener); the guard's cache can then be
// turned off (guard.Options{TTL: -1}). The program must run the
// service's background work (service.Start) and Close it, so that the
// uses of tokens are written.
package embedded

import (
	"context"
	"net/netip"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/guard"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
)

// Verifier answers guard's questions from a service.
type Verifier struct {
	svc   *service.Service
	orgID string
}

var _ guard.Verifier = (*Verifier)(nil)

// New returns a verifier over svc. orgID, when not "", pins every
// question to that org, as an org API key pins /v1/verify: a token of
// another org is NOT_FOUND.
func New(svc *service.Service, orgID string) *Verifier {
	return &Verifier{svc: svc, orgID: orgID}
}

// Verify answers req as POST /v1/verify would.
func (v *Verifier) Verify(ctx context.Context, req client.VerifyRequest) (*client.Verification, error) {
	need := service.Need{Permission: req.Permission, OrgID: v.orgID}
	if e := req.Entity; e != nil {
		need.Entity = &service.Entity{Type: e.EntityType, ID: e.EntityID, Operation: e.Operation}
	}
	var ip netip.Addr
	if req.IP != "" {
		a, err := netip.ParseAddr(req.IP)
		if err != nil {
			return nil, keyward.Errorf(keyward.EINVALID, "ip must be an IPv4 or IPv6 address")
		}
		ip = a.Unmap()
	}
	verdict, err := v.svc.Judge(ctx, req.Token, ip, "keyward-guard", need)
	if err != nil {
		return nil, err
	}
	out := &client.Verification{Valid: verdict.Valid(), Code: verdict.Code.String(), Message: verdict.Message, Permissions: []string{}}
	t := verdict.Token()
	if c := verdict.Caller(); c != nil {
		out.Role = wire.OptString(string(c.Role))
		out.Permissions = append(out.Permissions, c.Permissions...)
		t = c.Token
	}
	if t != nil {
		to := wire.TokenOut(t)
		out.Token = &to
	}
	return out, nil
}
