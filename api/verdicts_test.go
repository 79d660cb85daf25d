package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/config"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// The table's statuses are the API's statuses of its error codes.
func TestVerdictTableStatuses(t *testing.T) {
	for _, c := range verify.Codes {
		o := c.Outcome()
		if c == verify.Valid {
			if o.Status != http.StatusOK || o.Error != "" {
				t.Errorf("%v: got %d %q, want 200 and no error", c, o.Status, o.Error)
			}
			continue
		}
		if got := api.StatusOf(o.Error); got != o.Status {
			t.Errorf("code %d (%s): the table says %d, the API answers %s with %d", c, o.Name, o.Status, o.Error, got)
		}
		if o.Name == "" || o.Message == "" {
			t.Errorf("code %d: no name or message", c)
		}
	}
}

// verdictCase is a way to present a token that reaches one code: the
// token, and what a front end is asked about it.
type verdictCase struct {
	secret string
	// method and uri are the original request of /v1/auth.
	method, uri string
	// verify is what /v1/verify is asked beside the token.
	verify client.VerifyRequest
	// from is the client address the request comes from.
	from string
}

// Every verification code gives, through every front end that can reach
// it, the status, code and message of the one table: an API route (the
// token authenticates a request), /v1/verify (a key asks about it) and
// /v1/auth (a proxy asks about the original request).
func TestVerdictsThroughEveryFrontEnd(t *testing.T) {
	cfg, err := config.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, api.Options{
		Routes: cfg.Routes, IdentityHeaders: cfg.IdentityHeaders,
		RateLimit: httplimit.Options{Limiter: ratelimit.NewMemory(ratelimit.MemoryOptions{}), IP: 1_000_000},
	})
	verifier := e.mintKey(e.owner, client.TokenRequest{Name: "resource server", Role: "admin"}).Secret
	mint := func(req client.TokenRequest) client.TokenSecret { return e.mint(e.owner, req) }

	// fresh returns a new case reaching code, made anew for each front
	// end, since presenting some of them changes them (a reused token
	// revokes its family, a rate limit is spent).
	n := 0
	fresh := func(t *testing.T, code verify.Code) verdictCase {
		n++
		get := verdictCase{method: "GET", uri: "/monitors/1"}
		switch code {
		case verify.Valid:
			get.secret = mint(client.TokenRequest{Name: "valid"}).Secret
		case verify.Malformed:
			get.secret = "kw_pat_nope"
		case verify.NotFound:
			tok := mint(client.TokenRequest{Name: "deleted"})
			e.as(e.owner, "DELETE", "/v1/tokens/"+tok.Token.ID, nil).want(t, http.StatusNoContent, nil)
			get.secret = tok.Secret
		case verify.Revoked:
			tok := mint(client.TokenRequest{Name: "revoked"})
			e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/revoke", nil).want(t, 200, nil)
			get.secret = tok.Secret
		case verify.Expired:
			tok := mint(client.TokenRequest{Name: "expired", ExpiresIn: "1h"})
			e.clock.Add(2 * time.Hour)
			get.secret = tok.Secret
		case verify.Reused:
			tok := mint(client.TokenRequest{Name: "rotated"})
			e.as(e.owner, "POST", "/v1/tokens/"+tok.Token.ID+"/rotate", client.RotateRequest{Overlap: "0s"}).want(t, 200, nil)
			get.secret = tok.Secret
		case verify.Blocked:
			email := fmt.Sprintf("blocked-%d@example.com", n)
			get.secret = e.member(email, "acme", "member")
			e.as(e.owner, "POST", "/v1/orgs/acme/members/"+email+"/suspend", nil).want(t, 200, nil)
		case verify.NotMember:
			// Removing a member revokes their tokens; a membership gone
			// without that (as a race may leave it) is NotMember.
			email := fmt.Sprintf("gone-%d@example.com", n)
			get.secret = e.member(email, "acme", "member")
			err := e.store.Update(e.ctx, func(tx service.Tx) error {
				u, err := tx.FindUserByEmail(e.ctx, email)
				if err != nil {
					return err
				}
				return tx.DeleteMembership(e.ctx, e.boot.Org.ID, u.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
		case verify.IPNotAllowed:
			get.secret = mint(client.TokenRequest{Name: "fenced", AllowedCIDRs: []string{"10.0.0.0/8"}}).Secret
		case verify.KindNotAdmitted:
			get.secret = e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "a1"}).Secret
		case verify.MissingPermission:
			get.secret = e.mintKey(e.owner, client.TokenRequest{Name: "viewer key", Role: "viewer"}).Secret
			get.method = "POST"
			get.verify.Permission = "monitors:write"
		case verify.OutOfScope:
			get.secret = mint(client.TokenRequest{Name: "scoped", Scopes: []client.Scope{{EntityType: "monitor", EntityID: "m1", Operations: []string{"read"}}}}).Secret
			get.verify.Entity = &client.VerifyEntity{EntityType: "monitor", EntityID: "m2", Operation: "read"}
		case verify.RouteNotAdmitted:
			get.secret = mint(client.TokenRequest{Name: "nowhere"}).Secret
			get.uri = "/"
		case verify.RateLimited:
			get.secret = mint(client.TokenRequest{Name: "limited", RateLimit: 1}).Secret
			e.as(get.secret, "GET", "/v1/whoami", nil).want(t, 200, nil) // spends the budget
		default:
			t.Fatalf("no way to reach code %d (%s): add one", code, code)
		}
		return get
	}

	// Which front end reaches which codes: an API route only what
	// authentication decides; /v1/verify has no route policy; /v1/auth
	// asks no entity.
	reachedByRoute := map[verify.Code]bool{
		verify.Valid: true, verify.Malformed: true, verify.NotFound: true, verify.Revoked: true, verify.Expired: true,
		verify.Reused: true, verify.Blocked: true, verify.NotMember: true, verify.IPNotAllowed: true, verify.RateLimited: true,
	}
	for _, code := range verify.Codes {
		o := code.Outcome()
		t.Run(fmt.Sprintf("%d-%s", code, o.Name), func(t *testing.T) {
			if reachedByRoute[code] {
				c := fresh(t, code)
				a := e.do("GET", "/v1/whoami", nil, bearer(c.secret))
				wantOutcome(t, "GET /v1/whoami", a, o)
			}
			if code != verify.RouteNotAdmitted && code != verify.KindNotAdmitted {
				c := fresh(t, code)
				req := c.verify
				req.Token = c.secret
				var got client.Verification
				e.as(verifier, "POST", "/v1/verify", req).want(t, 200, &got)
				if got.Code != o.Name || got.Valid != (code == verify.Valid) || !strings.HasPrefix(got.Message, o.Message) {
					t.Errorf("/v1/verify: got %s (valid %t, %q), want %s and a message starting %q", got.Code, got.Valid, got.Message, o.Name, o.Message)
				}
			}
			if code != verify.OutOfScope {
				c := fresh(t, code)
				a := e.auth(c.secret, c.method, c.uri)
				if code == verify.Valid {
					a.wantAuth(t, 200, "VALID")
					return
				}
				a.wantAuth(t, o.Status, o.Name)
				wantOutcome(t, "GET /v1/auth", a, o)
			}
		})
	}
}

// wantOutcome checks that an answer is the table's: its status, and for a
// refusal the error code and message.
func wantOutcome(t *testing.T, what string, a *answer, o verify.Outcome) {
	t.Helper()
	if o.Error == "" {
		if a.status != o.Status {
			t.Errorf("%s: got %d, want %d; body %s", what, a.status, o.Status, a.body)
		}
		return
	}
	b := a.wantError(t, o.Status, o.Error)
	if b.Message != o.Message {
		t.Errorf("%s: got message %q, want the table's %q", what, b.Message, o.Message)
	}
}
