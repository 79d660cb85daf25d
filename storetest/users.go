package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testUsers(t *testing.T, s service.Store) {
	ada := &keyward.User{
		ID: "usr_ada", Email: "Ada@Example.com", Name: "Ada", PasswordHash: "$argon2id$v=19$x",
		CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 678999999, time.FixedZone("CET", 3600)),
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindUserByID(ctx, ada.ID)
		wantCode(t, "FindUserByID of a missing user", err, keyward.ENOTFOUND)
		_, err = tx.FindUserByEmail(ctx, ada.Email)
		wantCode(t, "FindUserByEmail of a missing user", err, keyward.ENOTFOUND)
		n, err := tx.CountUsers(ctx)
		noErr(t, "CountUsers", err)
		if n != 0 {
			t.Errorf("CountUsers of an empty store: got %d, want 0", n)
		}
		return nil
	})

	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateUser(ctx, ada) })
	want := *ada
	want.CreatedAt = stored(ada.CreatedAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindUserByID(ctx, ada.ID)
		noErr(t, "FindUserByID", err)
		sameFields(t, "FindUserByID", got, &want)
		for _, email := range []string{"Ada@Example.com", "ada@example.com", "ADA@EXAMPLE.COM"} {
			got, err := tx.FindUserByEmail(ctx, email)
			noErr(t, "FindUserByEmail("+email+")", err)
			sameFields(t, "FindUserByEmail("+email+")", got, &want)
		}
		return nil
	})

	// A conflict leaves the transaction usable: the service carries on
	// after one.
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		err := tx.CreateUser(ctx, &keyward.User{ID: "usr_other", Email: "aDA@example.COM", CreatedAt: t0})
		wantCode(t, "CreateUser with a taken email in another case", err, keyward.ECONFLICT)
		err = tx.CreateUser(ctx, &keyward.User{ID: ada.ID, Email: "new@example.com", CreatedAt: t0})
		wantCode(t, "CreateUser with a taken id", err, keyward.ECONFLICT)
		return tx.CreateUser(ctx, &keyward.User{ID: "usr_grace", Email: "grace@example.com", Name: "Grace", CreatedAt: t0})
	})

	ada.Email, ada.Name, ada.PasswordHash = "ada.l@example.com", "Ada L.", ""
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateUser(ctx, ada) })
	want = *ada
	want.CreatedAt = stored(ada.CreatedAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindUserByEmail(ctx, "ADA.L@example.com")
		noErr(t, "FindUserByEmail after UpdateUser", err)
		sameFields(t, "after UpdateUser", got, &want)
		_, err = tx.FindUserByEmail(ctx, "ada@example.com")
		wantCode(t, "FindUserByEmail of the former email", err, keyward.ENOTFOUND)
		n, err := tx.CountUsers(ctx)
		noErr(t, "CountUsers", err)
		if n != 2 {
			t.Errorf("CountUsers: got %d, want 2", n)
		}
		return nil
	})

	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UpdateUser(ctx, &keyward.User{ID: "usr_missing", Email: "m@example.com"})
	})
	wantCode(t, "UpdateUser of a missing user", err, keyward.ENOTFOUND)
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UpdateUser(ctx, &keyward.User{ID: "usr_grace", Email: "Ada.L@example.com"})
	})
	wantCode(t, "UpdateUser to another user's email", err, keyward.ECONFLICT)
}

func testOrgs(t *testing.T, s service.Store) {
	acme := &keyward.Org{ID: "org_acme", Slug: "acme", Name: "Acme", CreatedAt: t0}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindOrgByID(ctx, acme.ID)
		wantCode(t, "FindOrgByID of a missing org", err, keyward.ENOTFOUND)
		_, err = tx.FindOrgBySlug(ctx, acme.Slug)
		wantCode(t, "FindOrgBySlug of a missing org", err, keyward.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		if err := tx.CreateOrg(ctx, acme); err != nil {
			return err
		}
		err := tx.CreateOrg(ctx, &keyward.Org{ID: "org_other", Slug: "acme", Name: "Other", CreatedAt: t0})
		wantCode(t, "CreateOrg with a taken slug", err, keyward.ECONFLICT)
		err = tx.CreateOrg(ctx, &keyward.Org{ID: acme.ID, Slug: "acme-2", Name: "Other", CreatedAt: t0})
		wantCode(t, "CreateOrg with a taken id", err, keyward.ECONFLICT)
		return tx.CreateOrg(ctx, &keyward.Org{ID: "org_globex", Slug: "globex", Name: "Globex", CreatedAt: t0})
	})
	want := *acme
	want.CreatedAt = stored(acme.CreatedAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindOrgByID(ctx, acme.ID)
		noErr(t, "FindOrgByID", err)
		sameFields(t, "FindOrgByID", got, &want)
		got, err = tx.FindOrgBySlug(ctx, "acme")
		noErr(t, "FindOrgBySlug", err)
		sameFields(t, "FindOrgBySlug", got, &want)
		got, err = tx.FindOrgBySlug(ctx, "globex")
		noErr(t, "FindOrgBySlug(globex)", err)
		if got.ID != "org_globex" {
			t.Errorf("FindOrgBySlug(globex): got id %q, want org_globex", got.ID)
		}
		return nil
	})
}
