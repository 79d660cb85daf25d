package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// t0 is the base time of the tests: a time with nanoseconds, which stores
// keep to the microsecond.
var t0 = time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)

// seedOrg stores an org.
func seedOrg(t testing.TB, s service.Store, id string) *keyward.Org {
	t.Helper()
	o := &keyward.Org{ID: id, Slug: "slug-" + id, Name: "Org " + id, CreatedAt: t0}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateOrg(ctx, o) })
	return o
}

// seedUser stores a user.
func seedUser(t testing.TB, s service.Store, id string) *keyward.User {
	t.Helper()
	u := &keyward.User{ID: id, Email: id + "@example.com", Name: "User " + id, CreatedAt: t0}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateUser(ctx, u) })
	return u
}

// randomHash returns a hash no other token has.
func randomHash() keyward.Hash {
	var h keyward.Hash
	rand.Read(h[:])
	return h
}

// newToken returns a PAT of user in org, created at created, with a random
// hash.
func newToken(orgID, userID string, created time.Time) *keyward.Token {
	id := keyward.NewID(keyward.IDPrefixToken)
	return &keyward.Token{
		ID: id, Kind: keyward.KindPAT, OrgID: orgID, UserID: userID, CreatedBy: userID,
		Name: "token " + id, Source: keyward.SourceCLI, Hash: randomHash(), Display: "kw_pat_xyz...abcd",
		CreatedAt: created, FamilyID: id,
	}
}

// createTokens stores tokens in one transaction.
func createTokens(t testing.TB, s service.Store, tokens ...*keyward.Token) {
	t.Helper()
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, tok := range tokens {
			if err := tx.CreateToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
}

// findToken reads a token that must exist.
func findToken(t *testing.T, s service.Store, id string) *keyward.Token {
	t.Helper()
	var tok *keyward.Token
	view(t, s, func(ctx context.Context, tx service.Tx) (err error) {
		tok, err = tx.FindTokenByID(ctx, id)
		return err
	})
	return tok
}

// tokenIDs returns the ids of tokens, in order.
func tokenIDs(tokens []*keyward.Token) []string {
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.ID
	}
	return ids
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// at returns t0 moved by n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// name numbers things for fixtures: name("u", 3) is "u003".
func name(prefix string, i int) string { return fmt.Sprintf("%s%03d", prefix, i) }
