package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testPolicy(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	find := func(what string, want *keyward.Policy) {
		t.Helper()
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			got, err := tx.FindPolicy(ctx, "org_a")
			noErr(t, "FindPolicy", err)
			sameFields(t, what, got, want)
			return nil
		})
	}
	find("policy never saved", &keyward.Policy{OrgID: "org_a"})

	p := &keyward.Policy{
		OrgID: "org_a", RequireExpiry: true, MaxLifetime: 90 * 24 * time.Hour,
		AllowedKinds: []keyward.Kind{keyward.KindPAT, keyward.KindAPIKey}, UpdatedAt: at(1).In(time.FixedZone("X", -7200)),
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SavePolicy(ctx, p) })
	want := *p
	want.UpdatedAt = stored(p.UpdatedAt)
	find("saved policy", &want)

	p = &keyward.Policy{OrgID: "org_a", MaxLifetime: 90 * time.Minute, AllowedKinds: []keyward.Kind{}, UpdatedAt: at(2)}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SavePolicy(ctx, p) })
	want = *p
	want.UpdatedAt = stored(p.UpdatedAt)
	find("policy saved again, with empty allowed kinds", &want)

	p = &keyward.Policy{OrgID: "org_a", UpdatedAt: at(3)}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SavePolicy(ctx, p) })
	want = *p
	want.UpdatedAt = stored(p.UpdatedAt)
	find("policy saved again, with nil allowed kinds", &want)

	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindPolicy(ctx, "org_other")
		noErr(t, "FindPolicy of another org", err)
		sameFields(t, "another org's policy", got, &keyward.Policy{OrgID: "org_other"})
		return nil
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.SavePolicy(ctx, &keyward.Policy{OrgID: "org_missing", UpdatedAt: t0})
	})
	wantCode(t, "SavePolicy of a missing org", err, keyward.ENOTFOUND)
}
