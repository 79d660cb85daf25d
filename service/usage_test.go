package service_test

import (
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Uses are counted in memory, written per hour in batches, and shown per
// UTC day for the last 30 days, oldest first, by get and list.
func TestDailyUsage(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "u"})
		if err != nil {
			t.Fatal(err)
		}
		other, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "idle"})
		if err != nil {
			t.Fatal(err)
		}
		use := func(n int) {
			for range n {
				e.auth(secret)
			}
		}
		// Day 0 (Nov 1, from 12:00): 3 uses in two hours, flushed twice.
		use(2)
		if err := e.svc.FlushUsage(e.ctx); err != nil {
			t.Fatal(err)
		}
		e.clock.Add(time.Hour)
		use(1)
		e.svc.FlushUsage(e.ctx)
		// Day 2: 4 uses; not flushed yet, then flushed.
		e.clock.Add(2 * 24 * time.Hour)
		use(4)
		got, _ := e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		want := make([]int, keyward.UsageDays)
		want[keyward.UsageDays-3] = 3
		if !slices.Equal(got.Usage, want) {
			t.Fatalf("before the flush: got usage %v, want %v (uses are written in batches)", got.Usage, want)
		}
		e.svc.FlushUsage(e.ctx)
		want[keyward.UsageDays-1] = 4
		got, _ = e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		if !slices.Equal(got.Usage, want) {
			t.Fatalf("get: got usage %v, want %v", got.Usage, want)
		}
		list, _, err := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, lt := range list {
			switch lt.ID {
			case tok.ID:
				if !slices.Equal(lt.Usage, want) {
					t.Errorf("list: got usage %v, want %v", lt.Usage, want)
				}
			case other.ID:
				if !slices.Equal(lt.Usage, make([]int, keyward.UsageDays)) {
					t.Errorf("list, unused token: got usage %v, want 30 zeros", lt.Usage)
				}
			}
		}
		// 28 days on, day 0 has left the window.
		e.clock.Add(28 * 24 * time.Hour)
		got, _ = e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		want = make([]int, keyward.UsageDays)
		want[keyward.UsageDays-29] = 4
		if !slices.Equal(got.Usage, want) {
			t.Fatalf("28 days later: got usage %v, want %v", got.Usage, want)
		}
	})
}

// Uses recorded while flushes run are each counted once: none is lost
// between a flush's taking of the shards and the next, and under -race no
// flush reads a map that a verification writes.
func TestUsageRecordedDuringFlushes(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, secret, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "busy"})
		if err != nil {
			t.Fatal(err)
		}
		const workers, uses = 4, 200
		var wg sync.WaitGroup
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range uses {
					if _, err := e.svc.Authenticate(e.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test"); err != nil {
						t.Errorf("Authenticate: %v", err)
						return
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		for flushing := true; flushing; {
			select {
			case <-done:
				flushing = false
			default:
			}
			if err := e.svc.FlushUsage(e.ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.svc.UnwrittenUsage(); n != 0 {
			t.Fatalf("after the last flush: %d tokens' use unwritten, want 0", n)
		}
		got, err := e.svc.FindTokenByID(e.ctx, owner, service.Personal, tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, n := range got.Usage {
			sum += n
		}
		if sum != workers*uses {
			t.Errorf("uses counted: got %d, want %d", sum, workers*uses)
		}
	})
}
