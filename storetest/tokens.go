package storetest

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// fullToken has every field set, with times in another zone and to the
// nanosecond.
func fullToken(orgID, userID string) *keyward.Token {
	cet := time.FixedZone("CET", 3600)
	tok := newToken(orgID, userID, time.Date(2026, 11, 1, 13, 0, 0, 123456789, cet))
	tok.Kind = keyward.KindOAuth
	tok.CreatedBy = "operator"
	tok.Description = "for the deploy job — ünïcode"
	tok.Source = keyward.SourceOAuthPrefix + "dcr_abc"
	tok.ExpiresAt = ptr(time.Date(2027, 1, 30, 13, 0, 0, 999999999, cet))
	tok.LastUsedAt = ptr(time.Date(2026, 11, 2, 8, 0, 0, 1000, time.UTC))
	tok.LastUsedIP = "2001:db8::1"
	tok.RevokedAt = ptr(time.Date(2026, 11, 3, 8, 0, 0, 1, time.UTC))
	tok.RevokedBy = userID
	tok.RevokeReason = "leaked"
	tok.Generation = 3
	tok.Role = keyward.RoleMember
	tok.AgentID = "agent-7"
	tok.Permissions = keyward.NewPermissions("tokens:read", "monitors:read")
	tok.Scopes = []keyward.Scope{
		{ID: "scp_1", EntityType: "monitor", EntityID: "*", Operations: []string{"read", "list"}},
		{ID: "scp_2", EntityType: "project", EntityID: "p-42", Operations: []string{}},
	}
	tok.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("192.0.2.7/32")}
	tok.RateLimit = 5000
	tok.FamilyID = "tok_family"
	tok.SupersededBy = "tok_next"
	return tok
}

func testTokenRoundTrip(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")

	orgKey := newToken("org_a", "", t0)
	orgKey.Kind, orgKey.Role, orgKey.CreatedBy = keyward.KindAPIKey, keyward.RoleAdmin, "usr_1"
	orgKey.FamilyID = ""
	empty := newToken("org_a", "usr_1", t0)
	empty.Permissions, empty.Scopes, empty.AllowedCIDRs = keyward.Permissions{}, []keyward.Scope{}, []netip.Prefix{}
	negative := newToken("org_a", "usr_1", time.Date(1969, 12, 31, 23, 59, 59, 999998000, time.UTC))
	negative.ExpiresAt = ptr(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))

	tests := []struct {
		name string
		tok  *keyward.Token
	}{
		{"every field", fullToken("org_a", "usr_1")},
		{"org key with nothing optional", orgKey},
		{"empty but not nil permissions, scopes and CIDRs", empty},
		{"times before 1970", negative},
	}
	for _, tt := range tests {
		createTokens(t, s, tt.tok)
		want := storedToken(tt.tok)
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			got, err := tx.FindTokenByID(ctx, tt.tok.ID)
			noErr(t, tt.name+": FindTokenByID", err)
			sameFields(t, tt.name+": FindTokenByID", got, want)
			got, err = tx.FindTokenByHash(ctx, tt.tok.Hash)
			noErr(t, tt.name+": FindTokenByHash", err)
			sameFields(t, tt.name+": FindTokenByHash", got, want)
			return nil
		})
	}
	// The nil and empty cases, said plainly.
	got := findToken(t, s, orgKey.ID)
	if got.Permissions != nil || got.Scopes != nil || got.AllowedCIDRs != nil {
		t.Errorf("nil permissions, scopes, CIDRs: got %#v, %#v, %#v, want nil", got.Permissions, got.Scopes, got.AllowedCIDRs)
	}
	got = findToken(t, s, empty.ID)
	if got.Permissions == nil || got.Scopes == nil || got.AllowedCIDRs == nil {
		t.Errorf("empty permissions, scopes, CIDRs: got %#v, %#v, %#v, want empty, not nil", got.Permissions, got.Scopes, got.AllowedCIDRs)
	}
	if got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt location: got %v, want UTC", got.CreatedAt.Location())
	}

	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindTokenByID(ctx, "tok_missing")
		wantCode(t, "FindTokenByID of a missing token", err, keyward.ENOTFOUND)
		_, err = tx.FindTokenByHash(ctx, randomHash())
		wantCode(t, "FindTokenByHash of a missing token", err, keyward.ENOTFOUND)
		return nil
	})
}

func testTokenConflicts(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	tok := newToken("org_a", "usr_1", t0)
	createTokens(t, s, tok)
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		sameID := newToken("org_a", "usr_1", t0)
		sameID.ID = tok.ID
		wantCode(t, "CreateToken with a taken id", tx.CreateToken(ctx, sameID), keyward.ECONFLICT)
		sameHash := newToken("org_a", "usr_1", t0)
		sameHash.Hash = tok.Hash
		wantCode(t, "CreateToken with a taken hash", tx.CreateToken(ctx, sameHash), keyward.ECONFLICT)
		// The transaction carries on after a conflict.
		return tx.CreateToken(ctx, newToken("org_a", "usr_1", t0))
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.CreateToken(ctx, newToken("org_missing", "usr_1", t0))
	})
	wantCode(t, "CreateToken in a missing org", err, keyward.ENOTFOUND)
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.CreateToken(ctx, newToken("org_a", "usr_missing", t0))
	})
	wantCode(t, "CreateToken of a missing user", err, keyward.ENOTFOUND)
}

func testUpdateToken(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	seedUser(t, s, "usr_1")
	seedUser(t, s, "usr_2")
	tok := newToken("org_a", "usr_1", t0)
	other := newToken("org_a", "usr_1", t0)
	createTokens(t, s, tok, other)

	// Every mutable field changes; the immutable ones are given other
	// values too, which UpdateToken must not store.
	upd := fullToken("org_b", "usr_2")
	upd.ID = tok.ID
	upd.CreatedAt = at(3600) // regenerating restarts a token's clock
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateToken(ctx, upd) })
	want := storedToken(upd)
	want.Kind, want.OrgID, want.UserID, want.CreatedBy, want.FamilyID = tok.Kind, tok.OrgID, tok.UserID, tok.CreatedBy, tok.FamilyID
	sameFields(t, "after UpdateToken", findToken(t, s, tok.ID), want)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindTokenByHash(ctx, upd.Hash)
		noErr(t, "FindTokenByHash of the new hash", err)
		if got.ID != tok.ID {
			t.Errorf("FindTokenByHash of the new hash: got %s, want %s", got.ID, tok.ID)
		}
		_, err = tx.FindTokenByHash(ctx, tok.Hash)
		wantCode(t, "FindTokenByHash of the replaced hash", err, keyward.ENOTFOUND)
		return nil
	})

	// And back to nothing optional.
	upd = newToken("org_a", "usr_1", t0)
	upd.ID = tok.ID
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateToken(ctx, upd) })
	want = storedToken(upd)
	want.FamilyID = tok.FamilyID
	sameFields(t, "after UpdateToken clearing fields", findToken(t, s, tok.ID), want)

	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UpdateToken(ctx, newToken("org_a", "usr_1", t0))
	})
	wantCode(t, "UpdateToken of a missing token", err, keyward.ENOTFOUND)
	clash := findToken(t, s, tok.ID)
	clash.Hash = other.Hash
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateToken(ctx, clash) })
	wantCode(t, "UpdateToken to another token's hash", err, keyward.ECONFLICT)
}

func testDeleteToken(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	gone, kept := newToken("org_a", "usr_1", at(1)), newToken("org_a", "usr_1", at(2))
	kept.FamilyID = gone.FamilyID
	createTokens(t, s, gone, kept)
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteToken(ctx, gone.ID) })
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindTokenByID(ctx, gone.ID)
		wantCode(t, "FindTokenByID of a deleted token", err, keyward.ENOTFOUND)
		_, err = tx.FindTokenByHash(ctx, gone.Hash)
		wantCode(t, "FindTokenByHash of a deleted token", err, keyward.ENOTFOUND)
		list, _, err := tx.FindTokens(ctx, keyward.TokenFilter{OrgID: "org_a", Now: t0})
		noErr(t, "FindTokens", err)
		if got := tokenIDs(list); len(got) != 1 || got[0] != kept.ID {
			t.Errorf("FindTokens after DeleteToken: got %v, want [%s]", got, kept.ID)
		}
		family, err := tx.FindTokenFamily(ctx, kept.FamilyID)
		noErr(t, "FindTokenFamily", err)
		if got := tokenIDs(family); len(got) != 1 || got[0] != kept.ID {
			t.Errorf("FindTokenFamily after DeleteToken: got %v, want [%s]", got, kept.ID)
		}
		return nil
	})
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteToken(ctx, gone.ID) })
	wantCode(t, "DeleteToken twice", err, keyward.ENOTFOUND)
	// Its hash is free again.
	again := newToken("org_a", "usr_1", t0)
	again.Hash = gone.Hash
	createTokens(t, s, again)
}

func testTokenFamily(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	var family []*keyward.Token
	for i := range 3 {
		tok := newToken("org_a", "usr_1", at(10-i)) // the newest stored first
		tok.FamilyID = "fam_1"
		family = append(family, tok)
	}
	stray := newToken("org_a", "usr_1", t0)
	stray.FamilyID = "fam_2"
	none := newToken("org_a", "usr_1", t0)
	none.FamilyID = ""
	createTokens(t, s, append(family, stray, none)...)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindTokenFamily(ctx, "fam_1")
		noErr(t, "FindTokenFamily", err)
		want := []string{family[2].ID, family[1].ID, family[0].ID}
		if ids := tokenIDs(got); !slices.Equal(ids, want) {
			t.Errorf("FindTokenFamily(fam_1): got %v, want %v (oldest first)", ids, want)
		}
		for _, id := range []string{"", "fam_missing"} {
			got, err := tx.FindTokenFamily(ctx, id)
			noErr(t, "FindTokenFamily("+id+")", err)
			if len(got) != 0 {
				t.Errorf("FindTokenFamily(%q): got %v, want none", id, tokenIDs(got))
			}
		}
		return nil
	})
}
