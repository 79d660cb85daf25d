package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testAudit(t *testing.T, s service.Store) {
	events := []*keyward.AuditEvent{
		{Time: at(1), OrgID: "org_a", Action: keyward.ActionTokenCreated, Actor: "usr_1", ActorToken: "tok_1", Target: "tok_2",
			IP: "2001:db8::1", UserAgent: "keyward-cli/1.0", Details: json.RawMessage(`{"name":"ci","kind":"pat","nested":{"n":[1,2]}}`)},
		{Time: at(2).Add(999 * time.Nanosecond), OrgID: "org_a", Action: keyward.ActionTokenRevoked, Actor: "usr_2", Target: "tok_2"},
		{Time: at(3), OrgID: "org_b", Action: keyward.ActionTokenRevoked, Actor: "usr_1", Target: "tok_3", Details: json.RawMessage(`[]`)},
		{Time: at(4), OrgID: "org_a", Action: keyward.ActionMemberRemoved, Actor: keyward.ActorOperator, Target: "usr_2", Details: json.RawMessage(`{"revoked_tokens":["tok_2"]}`)},
		{Time: at(5), OrgID: "", Action: keyward.ActionAuthDenied, IP: "192.0.2.1"},
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, e := range events {
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 1; i < len(events); i++ {
		if events[i].ID <= events[i-1].ID {
			t.Errorf("AppendAudit: event %d got id %d, after %d: want increasing ids", i, events[i].ID, events[i-1].ID)
		}
	}
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.AppendAudit(ctx, &keyward.AuditEvent{Time: t0, Action: "x", Details: json.RawMessage(`{not json`)})
	})
	if err == nil {
		t.Errorf("AppendAudit with details that are not JSON: got no error, want one")
	}

	// pick returns the events at the given indexes, newest first.
	pick := func(is ...int) []*keyward.AuditEvent {
		var out []*keyward.AuditEvent
		for _, i := range slices.Backward(is) {
			e := *events[i]
			e.Time = stored(e.Time)
			out = append(out, &e)
		}
		return out
	}
	tests := []struct {
		name string
		f    keyward.AuditFilter
		want []*keyward.AuditEvent
	}{
		{"everything", keyward.AuditFilter{}, pick(0, 1, 2, 3, 4)},
		{"one org", keyward.AuditFilter{OrgID: "org_a"}, pick(0, 1, 3)},
		{"action", keyward.AuditFilter{Action: keyward.ActionTokenRevoked}, pick(1, 2)},
		{"org and action", keyward.AuditFilter{OrgID: "org_a", Action: keyward.ActionTokenRevoked}, pick(1)},
		{"actor", keyward.AuditFilter{Actor: "usr_1"}, pick(0, 2)},
		{"target", keyward.AuditFilter{Target: "tok_2"}, pick(0, 1)},
		{"since, inclusive", keyward.AuditFilter{Since: at(3)}, pick(2, 3, 4)},
		{"until, exclusive", keyward.AuditFilter{Until: at(3)}, pick(0, 1)},
		{"since and until", keyward.AuditFilter{OrgID: "org_a", Since: at(2), Until: at(5)}, pick(1, 3)},
		{"no match", keyward.AuditFilter{Actor: "usr_missing"}, nil},
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, tt := range tests {
			got, next, err := tx.FindAudit(ctx, tt.f)
			noErr(t, tt.name, err)
			if next != "" {
				t.Errorf("%s: got next cursor %q, want none", tt.name, next)
			}
			if len(got) != len(tt.want) {
				t.Errorf("%s: got %d events, want %d", tt.name, len(got), len(tt.want))
				continue
			}
			for i := range got {
				sameFields(t, tt.name, got[i], tt.want[i])
			}
		}
		return nil
	})
}

func testAuditPaging(t *testing.T, s service.Store) {
	var want []int64 // ids of org_a's token.used events, newest first
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for i := range 300 {
			e := &keyward.AuditEvent{Time: at(i), OrgID: "org_a", Action: keyward.ActionTokenUsed, Actor: "usr_1", Target: "tok_1"}
			switch i % 5 {
			case 1:
				e.OrgID = "org_b"
			case 2:
				e.Action = keyward.ActionTokenCreated
			}
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
			if e.OrgID == "org_a" && e.Action == keyward.ActionTokenUsed {
				want = append(want, e.ID)
			}
		}
		return nil
	})
	slices.Reverse(want)
	for _, tt := range []struct{ limit, pageSize int }{
		{1, 1}, {7, 7}, {0, keyward.DefaultPageSize}, {500, keyward.MaxPageSize},
	} {
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			f := keyward.AuditFilter{OrgID: "org_a", Action: keyward.ActionTokenUsed, Limit: tt.limit}
			var got []int64
			for pages := 0; ; pages++ {
				if pages > 500 {
					t.Fatalf("limit %d: more than 500 pages", tt.limit)
				}
				page, next, err := tx.FindAudit(ctx, f)
				noErr(t, "FindAudit", err)
				if next != "" && len(page) != tt.pageSize {
					t.Errorf("limit %d: a page before the last has %d events, want %d", tt.limit, len(page), tt.pageSize)
				}
				for _, e := range page {
					got = append(got, e.ID)
				}
				if next == "" {
					break
				}
				f.Cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: got %d events in another order or set than the %d wanted", tt.limit, len(got), len(want))
			}
			return nil
		})
	}
}
