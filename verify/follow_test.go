package verify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// fakeFeed is a change feed in memory that can be made to fail.
type fakeFeed struct {
	mu      sync.Mutex
	entries []*keyward.Change
	failing bool
	// hang makes a read wait for its context, as a read from a database
	// behind a partition that drops packets does.
	hang  bool
	reads int
	// pruned is the highest sequence number pruned: entries up to it are
	// gone.
	pruned int64
}

func (f *fakeFeed) append(c *keyward.Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Seq = int64(len(f.entries) + 1)
	c.Time = now.Add(time.Duration(c.Seq) * time.Second)
	f.entries = append(f.entries, c)
}

func (f *fakeFeed) LastSeq(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return int64(len(f.entries)), nil
}

func (f *fakeFeed) Changes(ctx context.Context, after int64, limit int) ([]*keyward.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.hang {
		f.mu.Unlock()
		<-ctx.Done()
		f.mu.Lock()
		return nil, ctx.Err()
	}
	if f.failing {
		return nil, errors.New("feed unavailable")
	}
	if after < f.pruned {
		return nil, fmt.Errorf("after %d: %w", after, verify.ErrPruned)
	}
	rest := f.entries[after:]
	return rest[:min(limit, len(rest))], nil
}

// prune drops the entries up to through.
func (f *fakeFeed) prune(through int64) {
	f.mu.Lock()
	f.pruned = max(f.pruned, through)
	f.mu.Unlock()
}

func (f *fakeFeed) setFailing(v bool) {
	f.mu.Lock()
	f.failing = v
	f.mu.Unlock()
}

// The follower starts at the newest entry with an empty cache, applies
// what follows (woken or polling), and after a failing stretch of the
// feed applies everything it missed, in order.
func TestFollow(t *testing.T) {
	f := newFixture(t)
	feed := &fakeFeed{}
	feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_old"})
	secret, rec := f.pat(keyward.RoleMember, nil)
	f.verify(t, secret, netip.Addr{})

	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	done, err := f.cache.Follow(ctx, feed, verify.FollowOptions{Wake: wake, Poll: time.Hour, Batch: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	if s := f.cache.Stats(); s.Entries != 0 || s.LastSeq != 1 {
		t.Fatalf("after Follow: got %+v, want an empty cache at seq 1", s)
	}
	waitSeq := func(seq int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.cache.Stats().LastSeq != seq {
			if time.Now().After(deadline) {
				t.Fatalf("follower at %d, want %d", f.cache.Stats().LastSeq, seq)
			}
			time.Sleep(time.Millisecond)
		}
	}

	// A role change on another node, announced by a wake-up.
	f.verify(t, secret, netip.Addr{})
	f.store.mu.Lock()
	rec.Membership.Role = keyward.RoleAdmin
	f.store.mu.Unlock()
	feed.append(&keyward.Change{Kind: keyward.ChangeMember, OrgID: f.org.ID, UserID: f.user.ID})
	wake <- struct{}{}
	waitSeq(2)
	if v := f.verify(t, secret, netip.Addr{}); v.Role != keyward.RoleAdmin {
		t.Fatalf("after the member entry: got role %q, want admin", v.Role)
	}
	if got := f.cache.Stats().LastChange; !got.Equal(now.Add(2 * time.Second)) {
		t.Errorf("LastChange: got %v, want the entry's time", got)
	}

	// The feed fails; entries pile up (more than one batch); it comes back.
	feed.setFailing(true)
	for range 4 {
		feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_other"})
	}
	f.store.mu.Lock()
	rec.Token.RevokedAt = ptr(now)
	f.store.mu.Unlock()
	feed.append(&keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: rec.Token.Hash[:]})
	wake <- struct{}{}
	time.Sleep(20 * time.Millisecond)
	if got := f.cache.Stats().LastSeq; got != 2 {
		t.Fatalf("while the feed fails: follower at %d, want still 2", got)
	}
	feed.setFailing(false)
	waitSeq(7) // the retry after the backoff reads all five
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Revoked {
		t.Fatalf("after the feed came back: got %v, want Revoked", v.Code)
	}
}

// Cached tokens are bounded; a token pushed out is read again, correctly.
func TestEntriesBounded(t *testing.T) {
	f := newFixture(t)
	f.cache = verify.New(f.format, f.perms, f.store, verify.Options{MaxEntries: 512})
	var secrets []string
	for range 3000 {
		s, _ := f.pat(keyward.RoleMember, nil)
		secrets = append(secrets, s)
		f.verify(t, s, netip.Addr{})
	}
	if s := f.cache.Stats(); s.Entries > 512 || s.Entries < 256 {
		t.Fatalf("cached %d tokens, want at most 512 (and not far fewer)", s.Entries)
	}
	for _, s := range secrets {
		if v := f.verify(t, s, netip.Addr{}); v.Code != verify.Valid {
			t.Fatalf("got %v, want Valid", v.Code)
		}
	}
}

// syncBuffer is a log destination safe for the follower's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// A follower keeps its cache when the feed is pruned up to its position;
// one that was cut off while the entries after its position were pruned
// empties its cache, takes the newest position and warns, so that a
// token revoked meanwhile is refused rather than answered from memory.
func TestFollowPruned(t *testing.T) {
	f := newFixture(t)
	feed := &fakeFeed{}
	feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_old"})
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	done, err := f.cache.Follow(ctx, feed, verify.FollowOptions{
		Wake: wake, Poll: time.Hour, Batch: 2, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	waitSeq := func(seq int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for f.cache.Stats().LastSeq != seq {
			if time.Now().After(deadline) {
				t.Fatalf("follower at %d, want %d", f.cache.Stats().LastSeq, seq)
			}
			time.Sleep(time.Millisecond)
		}
	}
	secret, rec := f.pat(keyward.RoleMember, nil)
	other, _ := f.pat(keyward.RoleMember, nil)
	f.verify(t, secret, netip.Addr{})
	f.verify(t, other, netip.Addr{})

	// Pruned up to the follower's position: nothing was missed.
	feed.prune(1)
	feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_old"})
	wake <- struct{}{}
	waitSeq(2)
	if s := f.cache.Stats(); s.Entries != 2 || s.PrunedResets != 0 {
		t.Fatalf("after a prune up to the position: got %d entries and %d resets, want the 2 cached and none", s.Entries, s.PrunedResets)
	}

	// Cut off, the follower misses a revocation and more, all pruned.
	feed.setFailing(true)
	f.store.mu.Lock()
	rec.Token.RevokedAt = ptr(now)
	f.store.mu.Unlock()
	feed.append(&keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: rec.Token.Hash[:]})
	for range 3 {
		feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_other"})
	}
	feed.prune(5)
	wake <- struct{}{}
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Valid {
		t.Fatalf("while cut off: got %v, want the stale Valid still cached", v.Code)
	}
	feed.setFailing(false)
	waitSeq(6)
	if s := f.cache.Stats(); s.Entries != 0 || s.PrunedResets != 1 {
		t.Fatalf("after missing pruned entries: got %d entries and %d resets, want an emptied cache and 1", s.Entries, s.PrunedResets)
	}
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Revoked {
		t.Fatalf("token revoked in the pruned gap: got %v, want Revoked", v.Code)
	}
	if v := f.verify(t, other, netip.Addr{}); v.Code != verify.Valid {
		t.Fatalf("other token: got %v, want Valid", v.Code)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "pruned") {
		t.Errorf("log: got %q, want a warning about pruned entries", got)
	}

	// It follows on from its new position.
	feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_other"})
	wake <- struct{}{}
	waitSeq(7)
}
