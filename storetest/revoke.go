package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testRevokeUserTokens(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	seedUser(t, s, "usr_1")
	seedUser(t, s, "usr_2")
	mk := func(org, user string, kind keyward.Kind, n int) *keyward.Token {
		tok := newToken(org, user, at(n))
		tok.Kind = kind
		return tok
	}
	var (
		pat        = mk("org_a", "usr_1", keyward.KindPAT, 1)
		oauth      = mk("org_a", "usr_1", keyward.KindOAuth, 2)
		expiredPAT = mk("org_a", "usr_1", keyward.KindPAT, 3)
		revokedPAT = mk("org_a", "usr_1", keyward.KindPAT, 4)
		otherUser  = mk("org_a", "usr_2", keyward.KindPAT, 5)
		otherOrg   = mk("org_b", "usr_1", keyward.KindPAT, 6)
		orgKey     = mk("org_a", "", keyward.KindAPIKey, 7)
	)
	expiredPAT.ExpiresAt = ptr(at(-100))
	revokedPAT.RevokedAt, revokedPAT.RevokedBy, revokedPAT.RevokeReason = ptr(at(-50)), "usr_1", "no longer needed"
	orgKey.CreatedBy = "usr_1"
	createTokens(t, s, pat, oauth, expiredPAT, revokedPAT, otherUser, otherOrg, orgKey)

	now := at(1000).Add(789 * time.Nanosecond)
	var ids []string
	update(t, s, func(ctx context.Context, tx service.Tx) (err error) {
		ids, err = tx.RevokeUserTokens(ctx, "org_a", "usr_1", []keyward.Kind{keyward.KindPAT}, now, "usr_admin", "member removed")
		return err
	})
	if want := []string{expiredPAT.ID, pat.ID}; !slices.Equal(ids, want) {
		t.Errorf("RevokeUserTokens(pat): got %v, want %v (newest first)", ids, want)
	}
	for _, tok := range []*keyward.Token{pat, expiredPAT} {
		want := storedToken(tok)
		want.RevokedAt, want.RevokedBy, want.RevokeReason = ptr(stored(now)), "usr_admin", "member removed"
		sameFields(t, "revoked "+tok.ID, findToken(t, s, tok.ID), want)
	}
	for _, tok := range []*keyward.Token{oauth, revokedPAT, otherUser, otherOrg, orgKey} {
		sameFields(t, "untouched "+tok.ID, findToken(t, s, tok.ID), storedToken(tok))
	}

	// No kinds: every kind of the user's; again, nothing left to revoke.
	update(t, s, func(ctx context.Context, tx service.Tx) (err error) {
		ids, err = tx.RevokeUserTokens(ctx, "org_a", "usr_1", nil, now, "usr_admin", "member removed")
		return err
	})
	if want := []string{oauth.ID}; !slices.Equal(ids, want) {
		t.Errorf("RevokeUserTokens(no kinds): got %v, want %v", ids, want)
	}
	update(t, s, func(ctx context.Context, tx service.Tx) (err error) {
		ids, err = tx.RevokeUserTokens(ctx, "org_a", "usr_1", keyward.Kinds, now, "usr_admin", "member removed")
		return err
	})
	if len(ids) != 0 {
		t.Errorf("RevokeUserTokens a second time: got %v, want none", ids)
	}
	sameFields(t, "other org's token", findToken(t, s, otherOrg.ID), storedToken(otherOrg))
	sameFields(t, "org key the user created", findToken(t, s, orgKey.ID), storedToken(orgKey))
}

func testTouchTokens(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	a, b := newToken("org_a", "usr_1", t0), newToken("org_a", "usr_1", t0)
	b.RevokedAt = ptr(at(1))
	createTokens(t, s, a, b)
	touch := func(uses ...keyward.TokenUse) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.TouchTokens(ctx, uses) })
	}
	last := func(tok *keyward.Token, when time.Time, ip string) {
		t.Helper()
		got := findToken(t, s, tok.ID)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(stored(when)) || got.LastUsedIP != ip {
			t.Errorf("token %s: got last use %s from %q, want %v from %q", tok.ID, showTime(got.LastUsedAt), got.LastUsedIP, stored(when), ip)
		}
	}
	touch()
	if got := findToken(t, s, a.ID); got.LastUsedAt != nil || got.LastUsedIP != "" {
		t.Errorf("before any use: got last use %v from %q, want none", got.LastUsedAt, got.LastUsedIP)
	}
	touch(keyward.TokenUse{TokenID: a.ID, At: at(10), IP: "192.0.2.1", Count: 3})
	last(a, at(10), "192.0.2.1")
	// An older use does not move it back.
	touch(keyward.TokenUse{TokenID: a.ID, At: at(5), IP: "192.0.2.2", Count: 1})
	last(a, at(10), "192.0.2.1")
	// In one batch, the latest use wins whatever the order; uses of
	// tokens that are gone are ignored; revoked tokens record use too.
	touch(
		keyward.TokenUse{TokenID: a.ID, At: at(30), IP: "2001:db8::3", Count: 1},
		keyward.TokenUse{TokenID: "tok_deleted", At: at(30), IP: "192.0.2.9", Count: 1},
		keyward.TokenUse{TokenID: a.ID, At: at(50), IP: "2001:db8::5", Count: 1},
		keyward.TokenUse{TokenID: b.ID, At: at(20), IP: "192.0.2.20", Count: 1},
		keyward.TokenUse{TokenID: a.ID, At: at(40), IP: "2001:db8::4", Count: 1},
	)
	last(a, at(50), "2001:db8::5")
	last(b, at(20), "192.0.2.20")
	// A batch larger than one statement carries: uses of tokens that do
	// not exist first (their ids sort before the real ones), then the
	// real tokens' in a later statement.
	var many []keyward.TokenUse
	for i := range 1200 {
		many = append(many, keyward.TokenUse{TokenID: fmt.Sprintf("aaa_%04d", i), At: at(60), IP: "192.0.2.60", Count: 1})
	}
	touch(append(many, keyward.TokenUse{TokenID: a.ID, At: at(60), IP: "192.0.2.61", Count: 1})...)
	last(a, at(60), "192.0.2.61")
	last(b, at(20), "192.0.2.20")
	// Only last use changes.
	want := storedToken(b)
	want.LastUsedAt, want.LastUsedIP = ptr(stored(at(20))), "192.0.2.20"
	sameFields(t, "touched token", findToken(t, s, b.ID), want)
}
