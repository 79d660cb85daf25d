package storetest

import (
	"context"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testOAuthClients(t *testing.T, s service.Store) {
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindOAuthClient(ctx, "dcr_missing")
		wantCode(t, "FindOAuthClient of a missing client", err, keyward.ENOTFOUND)
		return nil
	})
	c := &keyward.OAuthClient{
		ID: "dcr_one", Kind: keyward.OAuthClientDynamic, Name: "Claude Code",
		RedirectURIs: []string{"http://127.0.0.1:33418/callback", "https://app.example.com/cb"},
		CreatedAt:    t0, UpdatedAt: t0,
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SaveOAuthClient(ctx, c) })
	want := *c
	want.CreatedAt, want.UpdatedAt = stored(t0), stored(t0)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindOAuthClient(ctx, c.ID)
		noErr(t, "FindOAuthClient", err)
		sameFields(t, "FindOAuthClient", got, &want)
		return nil
	})

	// Saving again replaces what the client says of itself and keeps
	// when it was first seen.
	again := &keyward.OAuthClient{
		ID: c.ID, Kind: keyward.OAuthClientMetadata, Name: "Renamed", RedirectURIs: []string{},
		CreatedAt: at(100), UpdatedAt: at(100),
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SaveOAuthClient(ctx, again) })
	want = *again
	want.CreatedAt, want.UpdatedAt = stored(t0), stored(at(100))
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindOAuthClient(ctx, c.ID)
		noErr(t, "FindOAuthClient after SaveOAuthClient", err)
		sameFields(t, "FindOAuthClient after SaveOAuthClient", got, &want)
		return nil
	})
}

func testOAuthCodes(t *testing.T, s service.Store) {
	org := seedOrg(t, s, "org_a")
	user := seedUser(t, s, "usr_a")
	client := &keyward.OAuthClient{ID: "https://client.example.com/meta.json", Kind: keyward.OAuthClientMetadata, Name: "C", RedirectURIs: []string{"https://client.example.com/cb"}, CreatedAt: t0, UpdatedAt: t0}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.SaveOAuthClient(ctx, client) })

	code := &keyward.OAuthCode{
		Hash: randomHash(), ClientID: client.ID, UserID: user.ID, OrgID: org.ID,
		RedirectURI: "https://client.example.com/cb", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Resource: "https://keys.example.com/mcp", Scope: "mcp", CreatedAt: t0, ExpiresAt: at(60),
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateOAuthCode(ctx, code) })
	want := *code
	want.CreatedAt, want.ExpiresAt = stored(t0), stored(at(60))
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindOAuthCode(ctx, code.Hash)
		noErr(t, "FindOAuthCode", err)
		sameFields(t, "FindOAuthCode", got, &want)
		_, err = tx.FindOAuthCode(ctx, randomHash())
		wantCode(t, "FindOAuthCode of a missing code", err, keyward.ENOTFOUND)
		return nil
	})

	// Conflicts and missing references leave the transaction usable.
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		err := tx.CreateOAuthCode(ctx, code)
		wantCode(t, "CreateOAuthCode with a taken hash", err, keyward.ECONFLICT)
		err = tx.UseOAuthCode(ctx, randomHash(), at(1), "tok_x")
		wantCode(t, "UseOAuthCode of a missing code", err, keyward.ENOTFOUND)
		return nil
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		bad := *code
		bad.Hash, bad.ClientID = randomHash(), "dcr_missing"
		return tx.CreateOAuthCode(ctx, &bad)
	})
	wantCode(t, "CreateOAuthCode of a missing client", err, keyward.ENOTFOUND)

	// A code is used once.
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UseOAuthCode(ctx, code.Hash, at(5), "tok_first")
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		err := tx.UseOAuthCode(ctx, code.Hash, at(6), "tok_second")
		wantCode(t, "UseOAuthCode of a used code", err, keyward.ECONFLICT)
		return nil
	})
	want.UsedAt, want.TokenID = ptr(stored(at(5))), "tok_first"
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindOAuthCode(ctx, code.Hash)
		noErr(t, "FindOAuthCode after use", err)
		sameFields(t, "FindOAuthCode after use", got, &want)
		return nil
	})

	// Old codes go; fresh ones stay.
	fresh := *code
	fresh.Hash, fresh.UsedAt, fresh.TokenID, fresh.ExpiresAt = randomHash(), nil, "", at(600)
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateOAuthCode(ctx, &fresh) })
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		n, err := tx.DeleteOAuthCodes(ctx, at(61))
		noErr(t, "DeleteOAuthCodes", err)
		if n != 1 {
			t.Errorf("DeleteOAuthCodes: got %d deleted, want 1", n)
		}
		return nil
	})
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindOAuthCode(ctx, code.Hash)
		wantCode(t, "FindOAuthCode of a deleted code", err, keyward.ENOTFOUND)
		_, err = tx.FindOAuthCode(ctx, fresh.Hash)
		noErr(t, "FindOAuthCode of a fresh code", err)
		return nil
	})
}
