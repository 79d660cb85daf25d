package storetest

import (
	"context"
	"slices"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testMemberships(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	m := &keyward.Membership{OrgID: "org_a", UserID: "usr_1", Role: keyward.RoleAdmin, CreatedAt: t0}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindMembership(ctx, m.OrgID, m.UserID)
		wantCode(t, "FindMembership of a missing membership", err, keyward.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		if err := tx.CreateMembership(ctx, m); err != nil {
			return err
		}
		dup := *m
		dup.Role = keyward.RoleViewer
		wantCode(t, "CreateMembership twice", tx.CreateMembership(ctx, &dup), keyward.ECONFLICT)
		return nil
	})
	for _, bad := range []keyward.Membership{
		{OrgID: "org_missing", UserID: "usr_1", Role: keyward.RoleMember, CreatedAt: t0},
		{OrgID: "org_a", UserID: "usr_missing", Role: keyward.RoleMember, CreatedAt: t0},
	} {
		err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateMembership(ctx, &bad) })
		wantCode(t, "CreateMembership in "+bad.OrgID+" of "+bad.UserID, err, keyward.ENOTFOUND)
	}

	want := *m
	want.CreatedAt = stored(m.CreatedAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindMembership(ctx, m.OrgID, m.UserID)
		noErr(t, "FindMembership", err)
		sameFields(t, "FindMembership", got, &want)
		return nil
	})

	m.Role, m.Suspended = keyward.RoleViewer, true
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateMembership(ctx, m) })
	want.Role, want.Suspended = keyward.RoleViewer, true
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindMembership(ctx, m.OrgID, m.UserID)
		noErr(t, "FindMembership after UpdateMembership", err)
		sameFields(t, "after UpdateMembership", got, &want)
		return nil
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UpdateMembership(ctx, &keyward.Membership{OrgID: "org_a", UserID: "usr_missing", Role: keyward.RoleOwner})
	})
	wantCode(t, "UpdateMembership of a missing membership", err, keyward.ENOTFOUND)

	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteMembership(ctx, "org_a", "usr_1") })
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindMembership(ctx, "org_a", "usr_1")
		wantCode(t, "FindMembership after DeleteMembership", err, keyward.ENOTFOUND)
		return nil
	})
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteMembership(ctx, "org_a", "usr_1") })
	wantCode(t, "DeleteMembership twice", err, keyward.ENOTFOUND)
}

func testMembershipsPaging(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	// Twelve members of org_a, in threes created at the same time, stored
	// out of order; want is the order a list must give: oldest first, then
	// by user id.
	var want []string
	var ms []*keyward.Membership
	for i := range 12 {
		id := name("usr_", i)
		seedUser(t, s, id)
		want = append(want, id)
		ms = append(ms, &keyward.Membership{OrgID: "org_a", UserID: id, Role: keyward.RoleMember, CreatedAt: at(i / 3)})
	}
	// usr_000 also belongs to org_b, joined before it joined org_a.
	ms = append(ms, &keyward.Membership{OrgID: "org_b", UserID: "usr_000", Role: keyward.RoleOwner, CreatedAt: at(-10)})
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, i := range []int{5, 0, 11, 3, 12, 7, 1, 9, 2, 10, 4, 8, 6} {
			if err := tx.CreateMembership(ctx, ms[i]); err != nil {
				return err
			}
		}
		return nil
	})

	view(t, s, func(ctx context.Context, tx service.Tx) error {
		all, err := tx.FindMemberships(ctx, "org_a", "", "", 0)
		noErr(t, "FindMemberships with limit 0", err)
		if got := userIDs(all); !slices.Equal(got, want) {
			t.Errorf("FindMemberships(org_a): got %v, want %v", got, want)
		}
		for _, limit := range []int{1, 2, 5, 12, 13} {
			var got []string
			after := ""
			for range 20 {
				page, err := tx.FindMemberships(ctx, "org_a", "", after, limit)
				noErr(t, "FindMemberships page", err)
				if len(page) > limit {
					t.Fatalf("FindMemberships with limit %d: got %d memberships", limit, len(page))
				}
				got = append(got, userIDs(page)...)
				if len(page) < limit {
					break
				}
				after = page[len(page)-1].UserID
			}
			if !slices.Equal(got, want) {
				t.Errorf("FindMemberships by pages of %d: got %v, want %v", limit, got, want)
			}
		}

		mine, err := tx.FindMemberships(ctx, "", "usr_000", "", 0)
		noErr(t, "FindMemberships of a user", err)
		var orgs []string
		for _, m := range mine {
			orgs = append(orgs, m.OrgID)
		}
		if want := []string{"org_b", "org_a"}; !slices.Equal(orgs, want) {
			t.Errorf("FindMemberships(user usr_000): got orgs %v, want %v", orgs, want)
		}
		page, err := tx.FindMemberships(ctx, "", "usr_000", "org_b", 0)
		noErr(t, "FindMemberships of a user after an org", err)
		if len(page) != 1 || page[0].OrgID != "org_a" {
			t.Errorf("FindMemberships(user usr_000, after org_b): got %v, want [org_a]", page)
		}

		_, err = tx.FindMemberships(ctx, "org_a", "", "usr_missing", 5)
		wantCode(t, "FindMemberships after a missing member", err, keyward.EINVALID)
		return nil
	})
}

func userIDs(ms []*keyward.Membership) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	return ids
}

func testCountOwners(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	for i := range 5 {
		seedUser(t, s, name("usr_", i))
	}
	ms := []*keyward.Membership{
		{OrgID: "org_a", UserID: "usr_000", Role: keyward.RoleOwner},
		{OrgID: "org_a", UserID: "usr_001", Role: keyward.RoleOwner, Suspended: true},
		{OrgID: "org_a", UserID: "usr_002", Role: keyward.RoleAdmin},
		{OrgID: "org_a", UserID: "usr_003", Role: keyward.RoleMember},
		{OrgID: "org_b", UserID: "usr_004", Role: keyward.RoleOwner},
		{OrgID: "org_b", UserID: "usr_000", Role: keyward.RoleOwner},
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, m := range ms {
			m.CreatedAt = t0
			if err := tx.CreateMembership(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	count := func(org string, want int) {
		t.Helper()
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			n, err := tx.CountOwners(ctx, org)
			noErr(t, "CountOwners", err)
			if n != want {
				t.Errorf("CountOwners(%s): got %d, want %d", org, n, want)
			}
			return nil
		})
	}
	count("org_a", 1)
	count("org_b", 2)
	count("org_missing", 0)
	ms[1].Suspended = false
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateMembership(ctx, ms[1]) })
	count("org_a", 2)
	ms[0].Role = keyward.RoleAdmin
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateMembership(ctx, ms[0]) })
	count("org_a", 1)
	count("org_b", 2)
}
