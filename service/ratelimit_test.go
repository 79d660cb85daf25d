package service_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// A token's own rate limit: any caller may lower it, only one who manages
// API keys may raise it above the default, and it is never negative.
func TestTokenRateLimitGrant(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := service.New(store, service.Options{TokenRateLimit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := svc.Bootstrap(ctx, service.BootstrapRequest{Email: "owner@example.com", OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, svc: svc, boot: boot}
	owner := e.auth(boot.Secret)
	member := e.auth(e.member("mia@example.com", boot.Org.Slug, keyward.RoleMember))
	_, highSecret, err := svc.AdminCreateToken(ctx, "owner@example.com", boot.Org.Slug, service.TokenRequest{Name: "high", RateLimit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	high := e.auth(highSecret)
	for _, c := range []struct {
		who    string
		caller *service.Caller
		limit  int
		want   string
	}{
		{"member lowers", member, 10, ""},
		{"member at the default", member, 1000, ""},
		{"member raises", member, 1001, keyward.EFORBIDDEN},
		{"member negative", member, -1, keyward.EINVALID},
		{"owner's token at the default raises", owner, 50_000, keyward.EPOWER},
		{"owner's token with a higher limit raises", high, 50_000, ""},
		{"owner's token raises past its own", high, 100_001, keyward.EPOWER},
	} {
		tok, _, err := svc.CreateToken(ctx, c.caller, service.Personal, service.TokenRequest{Name: c.who, RateLimit: c.limit})
		if got := code(err); got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.who, got, err, c.want)
			continue
		}
		if err == nil && tok.RateLimit != c.limit {
			t.Errorf("%s: got a token with rate limit %d, want %d", c.who, tok.RateLimit, c.limit)
		}
		if err != nil {
			toks, _, ferr := svc.FindTokens(ctx, c.caller, service.Personal, keyward.TokenFilter{Limit: 200})
			if ferr != nil {
				t.Fatal(ferr)
			}
			for _, tk := range toks {
				if tk.Name == c.who {
					t.Errorf("%s: refused, yet the token was made", c.who)
				}
			}
		}
	}
}
