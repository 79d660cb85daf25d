package mcp_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// Every verification code that authentication reaches gives, on /mcp,
// the status and message of the one table (verify/outcome.go), with its
// error code in the JSON-RPC error's data.
func TestVerdictsOnMCP(t *testing.T) {
	e := newEnv(t, mcp.Options{})
	owner := ownerCaller(t, e)
	n := 0
	mint := func(req service.TokenRequest) (*keyward.Token, string) {
		t.Helper()
		n++
		req.Name = fmt.Sprintf("t%d", n)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, req)
		if err != nil {
			t.Fatal(err)
		}
		return tok, secret
	}
	cases := map[verify.Code]func() string{
		verify.Malformed: func() string { return "kw_pat_nope" },
		verify.NotFound: func() string {
			tok, secret := mint(service.TokenRequest{})
			if err := e.svc.DeleteToken(e.ctx, owner, service.Personal, tok.ID); err != nil {
				t.Fatal(err)
			}
			return secret
		},
		verify.Revoked: func() string {
			tok, secret := mint(service.TokenRequest{})
			if _, err := e.svc.RevokeToken(e.ctx, owner, service.Personal, tok.ID, ""); err != nil {
				t.Fatal(err)
			}
			return secret
		},
		verify.Reused: func() string {
			tok, secret := mint(service.TokenRequest{})
			if _, _, err := e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, 0, service.RegenerateRequest{}); err != nil {
				t.Fatal(err)
			}
			return secret
		},
		verify.Blocked: func() string {
			secret := e.member("blocked@example.com", keyward.RoleMember)
			if _, err := e.svc.SuspendMember(e.ctx, owner, "blocked@example.com", true); err != nil {
				t.Fatal(err)
			}
			return secret
		},
		verify.IPNotAllowed: func() string {
			_, secret := mint(service.TokenRequest{AllowedCIDRs: []string{"10.0.0.0/8"}})
			return secret
		},
	}
	for code, make := range cases {
		o := code.Outcome()
		t.Run(o.Name+"-"+fmt.Sprint(uint8(code)), func(t *testing.T) {
			r := e.post(listTools, map[string]string{"Authorization": "Bearer " + make()})
			var body struct {
				Error struct {
					Message string `json:"message"`
					Data    struct {
						Code   string `json:"code"`
						Status int    `json:"status"`
					} `json:"data"`
				} `json:"error"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("not a JSON-RPC error: %s", r.body)
			}
			if r.status != o.Status || body.Error.Message != o.Message || body.Error.Data.Code != o.Error || body.Error.Data.Status != o.Status {
				t.Errorf("got %d %q (%s, %d), want the table's %d %q (%s)", r.status, body.Error.Message, body.Error.Data.Code, body.Error.Data.Status, o.Status, o.Message, o.Error)
			}
		})
	}
}
