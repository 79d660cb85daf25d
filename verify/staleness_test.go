package verify_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// A follower that cannot read the feed for longer than the bound fails
// closed with EUNAVAILABLE, logs it once, and answers again once it has
// caught up; fail-open keeps answering from the cache, and Staleness says
// it is stale either way.
func TestMaxStaleness(t *testing.T) {
	for _, failOpen := range []bool{false, true} {
		f := newFixture(t)
		feed := &fakeFeed{}
		secret, _ := f.pat(keyward.RoleMember, nil)
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		const bound = 100 * time.Millisecond
		f.cache.SetMaxStaleness(bound, failOpen)
		ctx, cancel := context.WithCancel(context.Background())
		done, err := f.cache.Follow(ctx, feed, verify.FollowOptions{Poll: 10 * time.Millisecond, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		f.verify(t, secret, netip.Addr{})
		feed.setFailing(true)
		time.Sleep(3 * bound)
		age, stale := f.cache.Staleness()
		if !stale || age < bound {
			t.Fatalf("failOpen=%v: Staleness() = %v, %v after %v without the feed, want stale", failOpen, age, stale, 3*bound)
		}
		if s := f.cache.Stats(); !s.Stale || s.FeedAge < bound {
			t.Errorf("failOpen=%v: Stats Stale %v FeedAge %v, want stale", failOpen, s.Stale, s.FeedAge)
		}
		for range 3 {
			v, err := f.cache.Verify(context.Background(), secret, netip.Addr{}, now)
			if failOpen {
				if err != nil || v.Code != verify.Valid {
					t.Errorf("fail-open while stale: %v, %v, want Valid", v.Code, err)
				}
			} else if keyward.ErrorCode(err) != keyward.EUNAVAILABLE {
				t.Errorf("fail-closed while stale: %v, %v, want %s", v.Code, err, keyward.EUNAVAILABLE)
			}
		}
		feed.setFailing(false)
		deadline := time.Now().Add(10 * time.Second)
		for _, stale := f.cache.Staleness(); stale; _, stale = f.cache.Staleness() {
			if time.Now().After(deadline) {
				t.Fatal("still stale 10 s after the feed came back")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Valid {
			t.Errorf("after catching up: %v, want Valid", v.Code)
		}
		cancel()
		<-done
		out := logs.String()
		if n := strings.Count(out, "level=WARN msg=\"this node is behind"); n != 1 {
			t.Errorf("failOpen=%v: %d staleness warnings, want 1:\n%s", failOpen, n, out)
		}
		if n := strings.Count(out, "level=INFO msg=\"this node has caught up"); n != 1 {
			t.Errorf("failOpen=%v: %d catch-up notes, want 1:\n%s", failOpen, n, out)
		}
	}
}

// A feed read that hangs is cut short by ReadTimeout: the follower goes
// stale rather than wait for ever, and catches up once the feed answers.
func TestFollowHungRead(t *testing.T) {
	f := newFixture(t)
	feed := &fakeFeed{}
	f.cache.SetMaxStaleness(50*time.Millisecond, false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, err := f.cache.Follow(ctx, feed, verify.FollowOptions{Poll: 10 * time.Millisecond, ReadTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-done }()
	feed.mu.Lock()
	feed.hang = true
	feed.mu.Unlock()
	time.Sleep(200 * time.Millisecond)
	if _, stale := f.cache.Staleness(); !stale {
		t.Fatal("not stale while every read hangs")
	}
	feed.mu.Lock()
	feed.hang = false
	feed.mu.Unlock()
	feed.append(&keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_other"})
	deadline := time.Now().Add(5 * time.Second)
	for f.cache.Stats().LastSeq != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the follower did not recover from a hung read within 5 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, stale := f.cache.Staleness(); stale {
		t.Error("still stale after catching up")
	}
}
