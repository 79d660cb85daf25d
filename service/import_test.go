package service_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// Existing keys come in without rotation, by plaintext or SHA-256 (hex
// or base64), as personal tokens or org API keys; they verify like
// keyward's own, whatever their form; a second import changes nothing; a
// dry run writes nothing; a bad row is refused with its reason and
// changes nothing.
func TestAdminImport(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		stripe := "sk_live_" + strings.Repeat("4eC39HqLyjWDarjtT1zdp7dc", 4)
		legacy := "legacy-key-0123456789abcdef"
		hexKey := "hk_" + strings.Repeat("a1", 20)
		b64Key := "b64_" + strings.Repeat("Zz9", 10)
		sum := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
		created := time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC)
		used := time.Date(2026, 10, 30, 8, 0, 0, 0, time.UTC)
		expired := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		rows := []service.ImportRow{
			{Line: 2, Org: "acme", Owner: "owner@example.com", Name: "stripe-style", Token: stripe, CreatedAt: &created, LastUsedAt: &used},
			{Line: 3, Org: "acme", Name: "legacy", Role: keyward.RoleViewer, Token: legacy},
			{Line: 4, Org: "acme", Name: "by hex", SHA256: hex.EncodeToString(sum(hexKey))},
			{Line: 5, Org: "acme", Name: "by base64", SHA256: base64.RawURLEncoding.EncodeToString(sum(b64Key))},
			{Line: 6, Org: "acme", Name: "expired", Token: "old-key-abcdefghijklmnop", ExpiresAt: &expired},
			{Line: 7, Org: "acme", Name: "no key"},
			{Line: 8, Org: "nowhere", Name: "no org", Token: "x-key-abcdefghijklmnopq"},
			{Line: 9, Org: "acme", Name: "short", Token: "short"},
			{Line: 10, Org: "acme", Name: "both", Token: "y-key-abcdefghijklmnopq", SHA256: hex.EncodeToString(sum("y"))},
			{Line: 11, Org: "acme", Owner: "nobody@example.com", Name: "no owner", Token: "z-key-abcdefghijklmnopq"},
			{Line: 12, Org: "acme", Name: "bad hash", SHA256: "abc"},
		}
		want := []string{"created", "created", "created", "created", "created", "refused", "refused", "refused", "refused", "refused", "refused"}
		count := func() int {
			t.Helper()
			n := 0
			for _, s := range stateOf(t, e) {
				n += len(s)
			}
			return n
		}
		before := count()

		dry := e.svc.AdminImport(e.ctx, rows, service.ImportOptions{DryRun: true})
		for i, o := range dry {
			if o.Action != want[i] {
				t.Errorf("dry run, line %d: %s (%v), want %s", o.Line, o.Action, o.Err, want[i])
			}
		}
		if got := count(); got != before {
			t.Fatalf("a dry run changed the tokens: %d, were %d", got, before)
		}
		got := e.svc.AdminImport(e.ctx, rows, service.ImportOptions{})
		for i, o := range got {
			if o.Action != want[i] {
				t.Errorf("line %d: %s (%v), want %s", o.Line, o.Action, o.Err, want[i])
			}
			if o.Err != nil && (strings.Contains(o.Err.Error(), "-key-") || strings.Contains(o.Err.Error(), "short")) {
				t.Errorf("line %d: the error quotes the key: %v", o.Line, o.Err)
			}
		}
		if n := count(); n != before+5 {
			t.Fatalf("got %d tokens after the import, want %d", n, before+5)
		}
		again := e.svc.AdminImport(e.ctx, rows[:5], service.ImportOptions{})
		for i, o := range again {
			if o.Action != "unchanged" || o.TokenID != got[i].TokenID {
				t.Errorf("second run, line %d: %s %s, want unchanged %s", o.Line, o.Action, o.TokenID, got[i].TokenID)
			}
		}
		if n := count(); n != before+5 {
			t.Fatalf("a second import changed the tokens: %d", n)
		}

		// Imported keys verify, whatever their form.
		ip := netip.MustParseAddr("192.0.2.1")
		for _, c := range []struct {
			key  string
			code verify.Code
			kind keyward.Kind
		}{
			{stripe, verify.Valid, keyward.KindPAT},
			{legacy, verify.Valid, keyward.KindAPIKey},
			{hexKey, verify.Valid, keyward.KindAPIKey},
			{b64Key, verify.Valid, keyward.KindAPIKey},
			{"old-key-abcdefghijklmnop", verify.Expired, keyward.KindAPIKey},
			{"never-imported-0123456789", verify.NotFound, ""},
		} {
			v, err := e.svc.Judge(e.ctx, c.key, ip, "test", service.Need{})
			if err != nil || v.Code != c.code {
				t.Errorf("Judge(%s...): %v, %v; want %v", c.key[:4], v.Code, err, c.code)
				continue
			}
			if c.code == verify.Valid {
				caller, err := e.svc.Authenticate(e.ctx, c.key, ip, "test")
				if err != nil || caller.Token.Kind != c.kind || caller.Token.Source != service.SourceImported {
					t.Errorf("Authenticate(%s...): %+v, %v; want a %s of source imported", c.key[:4], caller, err, c.kind)
				}
			}
		}
		caller, _ := e.svc.Authenticate(e.ctx, legacy, ip, "test")
		if caller.Role != keyward.RoleViewer || caller.Token.Display != keyward.DisplayToken(legacy) {
			t.Errorf("the legacy key: role %s, display %q", caller.Role, caller.Token.Display)
		}
		owner, _ := e.svc.Authenticate(e.ctx, stripe, ip, "test")
		if !owner.Token.CreatedAt.Equal(created) || owner.Token.UserID != e.boot.User.ID {
			t.Errorf("the stripe-style key: created %v, user %s", owner.Token.CreatedAt, owner.Token.UserID)
		}
	})
}

// stateOf reads every token of every org, by org.
func stateOf(t *testing.T, e *env) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := e.store.View(e.ctx, func(tx service.Tx) error {
		page, _, err := tx.FindTokens(e.ctx, keyward.TokenFilter{OrgID: e.boot.Org.ID, Now: e.clock.Now(), Limit: keyward.MaxPageSize})
		for _, tok := range page {
			out[tok.OrgID] = append(out[tok.OrgID], tok.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
