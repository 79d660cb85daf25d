package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testSessions(t *testing.T, s service.Store) {
	u := seedUser(t, s, "usr_s1")
	other := seedUser(t, s, "usr_s2")
	sess := &keyward.Session{
		Hash: randomHash(), UserID: u.ID, OrgID: "org_a",
		CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(7 * 24 * 3600),
		IP: "192.0.2.1", UserAgent: "Browser/1.0",
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindSession(ctx, sess.Hash)
		wantCode(t, "FindSession of a missing session", err, keyward.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateSession(ctx, sess) })
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreateSession(ctx, sess) })
	wantCode(t, "CreateSession with a taken hash", err, keyward.ECONFLICT)

	want := *sess
	want.CreatedAt, want.LastSeenAt, want.ExpiresAt = stored(sess.CreatedAt), stored(sess.LastSeenAt), stored(sess.ExpiresAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindSession(ctx, sess.Hash)
		noErr(t, "FindSession", err)
		sameFields(t, "FindSession", got, &want)
		return nil
	})

	sess.OrgID, sess.LastSeenAt = "org_b", at(60)
	sess.IP = "198.51.100.7" // not updated: only org and last-seen change
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UpdateSession(ctx, sess) })
	want.OrgID, want.LastSeenAt = "org_b", stored(at(60))
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindSession(ctx, sess.Hash)
		noErr(t, "FindSession after UpdateSession", err)
		sameFields(t, "after UpdateSession", got, &want)
		return nil
	})
	err = tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.UpdateSession(ctx, &keyward.Session{Hash: randomHash(), LastSeenAt: t0})
	})
	wantCode(t, "UpdateSession of a missing session", err, keyward.ENOTFOUND)

	// DeleteSession removes one; DeleteUserSessions every one of a user.
	second := &keyward.Session{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(3600)}
	third := &keyward.Session{Hash: randomHash(), UserID: other.ID, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: at(3600)}
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		noErr(t, "CreateSession second", tx.CreateSession(ctx, second))
		noErr(t, "CreateSession third", tx.CreateSession(ctx, third))
		noErr(t, "DeleteSession", tx.DeleteSession(ctx, sess.Hash))
		return tx.DeleteSession(ctx, randomHash())
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteUserSessions(ctx, u.ID) })
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, h := range []keyward.Hash{sess.Hash, second.Hash} {
			_, err := tx.FindSession(ctx, h)
			wantCode(t, "FindSession of a deleted session", err, keyward.ENOTFOUND)
		}
		_, err := tx.FindSession(ctx, third.Hash)
		noErr(t, "FindSession of another user's session", err)
		return nil
	})
}

func testPasswordLinks(t *testing.T, s service.Store) {
	u := seedUser(t, s, "usr_p1")
	l := &keyward.PasswordLink{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, ExpiresAt: at(3600)}
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreatePasswordLink(ctx, l) })
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.CreatePasswordLink(ctx, l) })
	wantCode(t, "CreatePasswordLink with a taken hash", err, keyward.ECONFLICT)
	want := *l
	want.CreatedAt, want.ExpiresAt = stored(l.CreatedAt), stored(l.ExpiresAt)
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		got, err := tx.FindPasswordLink(ctx, l.Hash)
		noErr(t, "FindPasswordLink", err)
		sameFields(t, "FindPasswordLink", got, &want)
		_, err = tx.FindPasswordLink(ctx, randomHash())
		wantCode(t, "FindPasswordLink of a missing link", err, keyward.ENOTFOUND)
		return nil
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteUserPasswordLinks(ctx, u.ID) })
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindPasswordLink(ctx, l.Hash)
		wantCode(t, "FindPasswordLink after DeleteUserPasswordLinks", err, keyward.ENOTFOUND)
		return nil
	})
}

func testSignInFailures(t *testing.T, s service.Store) {
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for i := range 3 {
			noErr(t, "AddSignInFailure", tx.AddSignInFailure(ctx, "email:a@example.com", at(i*60)))
		}
		return tx.AddSignInFailure(ctx, "ip:192.0.2.1", at(0))
	})
	count := func(key string, since time.Time) int {
		var n int
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			var err error
			n, err = tx.CountSignInFailures(ctx, key, since)
			return err
		})
		return n
	}
	for _, c := range []struct {
		key   string
		since time.Time
		want  int
	}{
		{"email:a@example.com", at(-1), 3},
		{"email:a@example.com", at(60), 2}, // at or after since
		{"email:a@example.com", at(121), 0},
		{"ip:192.0.2.1", at(-1), 1},
		{"email:b@example.com", at(-1), 0},
	} {
		if got := count(c.key, c.since); got != c.want {
			t.Errorf("CountSignInFailures(%s, %v): got %d, want %d", c.key, c.since, got, c.want)
		}
	}
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		return tx.ClearSignInFailures(ctx, "email:a@example.com")
	})
	if got := count("email:a@example.com", at(-1)); got != 0 {
		t.Errorf("CountSignInFailures after ClearSignInFailures: got %d, want 0", got)
	}
	if got := count("ip:192.0.2.1", at(-1)); got != 1 {
		t.Errorf("ClearSignInFailures touched another key: got %d, want 1", got)
	}
}

func testNonces(t *testing.T, s service.Store) {
	h := randomHash()
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UseNonce(ctx, h, at(3600)) })
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UseNonce(ctx, h, at(3600)) })
	wantCode(t, "UseNonce of a used nonce", err, keyward.ECONFLICT)
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UseNonce(ctx, randomHash(), at(3600)) })
}

func testPruneAuth(t *testing.T, s service.Store) {
	u := seedUser(t, s, "usr_pr")
	live := &keyward.Session{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, LastSeenAt: at(100), ExpiresAt: at(1000)}
	ended := &keyward.Session{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, LastSeenAt: at(100), ExpiresAt: at(200)}
	idle := &keyward.Session{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, LastSeenAt: at(10), ExpiresAt: at(1000)}
	oldLink := &keyward.PasswordLink{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, ExpiresAt: at(200)}
	newLink := &keyward.PasswordLink{Hash: randomHash(), UserID: u.ID, CreatedAt: t0, ExpiresAt: at(1000)}
	oldNonce, newNonce := randomHash(), randomHash()
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, ss := range []*keyward.Session{live, ended, idle} {
			noErr(t, "CreateSession", tx.CreateSession(ctx, ss))
		}
		noErr(t, "CreatePasswordLink", tx.CreatePasswordLink(ctx, oldLink))
		noErr(t, "CreatePasswordLink", tx.CreatePasswordLink(ctx, newLink))
		noErr(t, "UseNonce", tx.UseNonce(ctx, oldNonce, at(200)))
		noErr(t, "UseNonce", tx.UseNonce(ctx, newNonce, at(1000)))
		noErr(t, "AddSignInFailure", tx.AddSignInFailure(ctx, "k", at(10)))
		return tx.AddSignInFailure(ctx, "k", at(250))
	})
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.PruneAuth(ctx, at(300), at(50), at(100)) })
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, err := tx.FindSession(ctx, live.Hash)
		noErr(t, "FindSession of a live session after PruneAuth", err)
		_, err = tx.FindSession(ctx, ended.Hash)
		wantCode(t, "FindSession of an ended session after PruneAuth", err, keyward.ENOTFOUND)
		_, err = tx.FindSession(ctx, idle.Hash)
		wantCode(t, "FindSession of an idle session after PruneAuth", err, keyward.ENOTFOUND)
		_, err = tx.FindPasswordLink(ctx, oldLink.Hash)
		wantCode(t, "FindPasswordLink of an expired link after PruneAuth", err, keyward.ENOTFOUND)
		_, err = tx.FindPasswordLink(ctx, newLink.Hash)
		noErr(t, "FindPasswordLink of a live link after PruneAuth", err)
		n, err := tx.CountSignInFailures(ctx, "k", at(0))
		noErr(t, "CountSignInFailures", err)
		if n != 1 {
			t.Errorf("CountSignInFailures after PruneAuth: got %d, want 1", n)
		}
		return nil
	})
	// A pruned nonce may be used again; a live one may not.
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UseNonce(ctx, oldNonce, at(5000)) })
	err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error { return tx.UseNonce(ctx, newNonce, at(5000)) })
	wantCode(t, "UseNonce of a live nonce after PruneAuth", err, keyward.ECONFLICT)
}
