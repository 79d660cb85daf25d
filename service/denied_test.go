package service_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Refusals are audited as auth.denied, in aggregate: a flood of refusals
// by one credential is one event with a count, and holds no secret.
func TestRefusalsAudited(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		secret := e.member("vic@example.com", "acme", keyward.RoleViewer)
		viewer := e.auth(secret)
		for range 100 {
			if _, _, err := e.svc.FindAudit(e.ctx, viewer, keyward.AuditFilter{}); code(err) != keyward.EFORBIDDEN {
				t.Fatalf("viewer reads the audit log: got %v, want forbidden", err)
			}
		}
		if _, _, err := e.svc.CreateToken(e.ctx, viewer, service.OrgKeys, service.TokenRequest{Name: "x"}); code(err) != keyward.EFORBIDDEN {
			t.Fatalf("viewer mints an org key: got %v, want forbidden", err)
		}
		if err := e.svc.FlushDenials(e.ctx); err != nil {
			t.Fatal(err)
		}
		events, _, err := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionAuthDenied})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("auth.denied events: got %d, want 2 (one per refusal, aggregated)", len(events))
		}
		counts := map[string]int{}
		for _, ev := range events {
			if ev.ActorToken != viewer.Token.ID || ev.Actor != viewer.User.ID || ev.OrgID != viewer.Org.ID {
				t.Errorf("event actor: got %s/%s in %s, want %s/%s in %s", ev.Actor, ev.ActorToken, ev.OrgID, viewer.User.ID, viewer.Token.ID, viewer.Org.ID)
			}
			if strings.Contains(string(ev.Details), secret) {
				t.Error("an auth.denied event holds the secret")
			}
			var d struct {
				Message string `json:"message"`
				Count   int    `json:"count"`
			}
			if err := json.Unmarshal(ev.Details, &d); err != nil {
				t.Fatal(err)
			}
			counts[d.Message] = d.Count
		}
		if counts["missing permission audit:read"] != 100 {
			t.Errorf("aggregated count: got %v, want 100 for the audit log", counts)
		}
		if err := e.svc.FlushDenials(e.ctx); err != nil {
			t.Fatal(err)
		}
		again, _, _ := e.svc.FindAudit(e.ctx, owner, keyward.AuditFilter{Action: keyward.ActionAuthDenied})
		if len(again) != 2 {
			t.Fatalf("a second flush with nothing gathered: got %d events, want still 2", len(again))
		}
	})
}
