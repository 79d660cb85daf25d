package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// empty checks that the store holds no user, token, audit event or change.
func empty(t *testing.T, s service.Store, what string) {
	t.Helper()
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		users, err := tx.CountUsers(ctx)
		noErr(t, "CountUsers", err)
		tokens, _, err := tx.FindTokens(ctx, keyward.TokenFilter{Now: t0})
		noErr(t, "FindTokens", err)
		events, _, err := tx.FindAudit(ctx, keyward.AuditFilter{})
		noErr(t, "FindAudit", err)
		changes, err := tx.FindChanges(ctx, 0, 0)
		noErr(t, "FindChanges", err)
		if users != 1 || len(tokens) != 0 || len(events) != 0 || len(changes) != 0 {
			t.Errorf("%s: got %d users, %d tokens, %d events, %d changes; want the seeded user and nothing else",
				what, users, len(tokens), len(events), len(changes))
		}
		return nil
	})
}

// mint writes what minting a token writes, in tx.
func mint(ctx context.Context, tx service.Tx, tok *keyward.Token) error {
	if err := tx.CreateToken(ctx, tok); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, &keyward.AuditEvent{
		Time: tok.CreatedAt, OrgID: tok.OrgID, Action: keyward.ActionTokenCreated, Actor: tok.UserID, Target: tok.ID,
		Details: []byte(`{"name":"bench"}`),
	}); err != nil {
		return err
	}
	return tx.AppendChange(ctx, &keyward.Change{Time: tok.CreatedAt, Kind: keyward.ChangeToken, OrgID: tok.OrgID, TokenID: tok.ID, UserID: tok.UserID, Hash: tok.Hash[:]})
}

func testRollback(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	errBoom := errors.New("boom")
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		if err := tx.CreateUser(ctx, &keyward.User{ID: "usr_2", Email: "two@example.com", CreatedAt: t0}); err != nil {
			return err
		}
		if err := mint(ctx, tx, newToken("org_a", "usr_1", t0)); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Errorf("Update whose function fails: got %v, want the function's error", err)
	}
	empty(t, s, "after a failed Update")

	// A domain error from the store rolls back what came before it.
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		if err := mint(ctx, tx, newToken("org_a", "usr_1", t0)); err != nil {
			return err
		}
		return tx.DeleteToken(ctx, "tok_missing")
	})
	wantCode(t, "Update that deletes a missing token", err, keyward.ENOTFOUND)
	empty(t, s, "after an Update failing with ENOTFOUND")

	// A canceled context commits nothing.
	ctx, cancel := context.WithCancel(t.Context())
	err = s.Update(ctx, func(tx service.Tx) error {
		if err := mint(ctx, tx, newToken("org_a", "usr_1", t0)); err != nil {
			return err
		}
		cancel()
		return nil
	})
	if err == nil {
		t.Errorf("Update whose context is canceled before commit: got no error, want one")
	}
	empty(t, s, "after an Update with a canceled context")
}

func testPanicRollsBack(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("panic in Update: got %v, want it passed on", r)
			}
		}()
		_ = s.Update(t.Context(), func(tx service.Tx) error {
			if err := mint(t.Context(), tx, newToken("org_a", "usr_1", t0)); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	empty(t, s, "after a panic in Update")
	// The store still writes: the transaction did not keep its connection.
	createTokens(t, s, newToken("org_a", "usr_1", t0))
}

func testViewIsReadOnly(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	err := s.View(t.Context(), func(tx service.Tx) error {
		return mint(t.Context(), tx, newToken("org_a", "usr_1", t0))
	})
	if err == nil {
		t.Errorf("writing in View: got no error, want one")
	}
	empty(t, s, "after writing in View")
}

func testConcurrentUpdates(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	counter := newToken("org_a", "usr_1", t0)
	createTokens(t, s, counter)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, 3*n)
	for range n {
		// Minting: no two writers touch the same row.
		wg.Go(func() {
			errs <- s.Update(t.Context(), func(tx service.Tx) error {
				return mint(t.Context(), tx, newToken("org_a", "usr_1", t0))
			})
		})
		// Read, modify, write of one row: serialised, no update is lost.
		wg.Go(func() {
			errs <- s.Update(t.Context(), func(tx service.Tx) error {
				tok, err := tx.FindTokenByID(t.Context(), counter.ID)
				if err != nil {
					return err
				}
				tok.Generation++
				return tx.UpdateToken(t.Context(), tok)
			})
		})
		// Readers meanwhile.
		wg.Go(func() {
			errs <- s.View(t.Context(), func(tx service.Tx) error {
				_, _, err := tx.FindTokens(t.Context(), keyward.TokenFilter{OrgID: "org_a", Now: t0})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update or View: %v", err)
		}
	}
	if got := findToken(t, s, counter.ID).Generation; got != n {
		t.Errorf("after %d concurrent increments: got generation %d, want %d", n, got, n)
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		tokens, _, err := tx.FindTokens(ctx, keyward.TokenFilter{OrgID: "org_a", Now: t0, Limit: keyward.MaxPageSize})
		noErr(t, "FindTokens", err)
		changes, err := tx.FindChanges(ctx, 0, 0)
		noErr(t, "FindChanges", err)
		if len(tokens) != n+1 || len(changes) != n {
			t.Errorf("after %d concurrent mints: got %d tokens and %d changes, want %d and %d", n, len(tokens), len(changes), n+1, n)
		}
		seen := map[int64]bool{}
		for _, c := range changes {
			if seen[c.Seq] {
				t.Errorf("change seq %d appears twice", c.Seq)
			}
			seen[c.Seq] = true
		}
		return nil
	})
}

func testPing(t *testing.T, s service.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
