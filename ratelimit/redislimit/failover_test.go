package redislimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/ratelimit/limitertest"
	"github.com/keyward/keyward/ratelimit/redislimit"
)

// nodes returns n limiters (n nodes) sharing rd under one prefix, each
// expecting n nodes, on the clock ck, with a pause of a millisecond, and
// the hook that fails their Redis commands.
func nodes(t *testing.T, rd *testenv.Redis, n int, ck *limitertest.Clock) ([]*redislimit.Limiter, *commandCounter) {
	t.Helper()
	cc := &commandCounter{}
	rd.Client.AddHook(cc)
	t.Cleanup(func() { cc.failing.Store(false) }) // before rd deletes its keys
	ls := make([]*redislimit.Limiter, n)
	for i := range ls {
		ls[i] = redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix, Now: ck.Now, Pause: time.Millisecond, Nodes: n})
	}
	return ls, cc
}

// spend sends rounds of one check to each node in turn until a whole
// round is refused, and returns how many were allowed.
func spend(t *testing.T, ls []*redislimit.Limiter, key string, limit int) (allowed int, last []ratelimit.Result) {
	t.Helper()
	last = make([]ratelimit.Result, len(ls))
	for round := 0; round < 10*limit; round++ {
		any := false
		for i, l := range ls {
			r := limitertest.Check(t, l, key, limit, time.Hour)
			last[i] = r
			if r.Allowed {
				allowed++
				any = true
			}
		}
		if !any {
			return allowed, last
		}
	}
	t.Fatalf("%s: still allowed after %d rounds", key, 10*limit)
	return
}

// While Redis is down for all of them, N nodes that had not seen a key
// admit N·⌈L/N⌉ of it together, not N·L: 15 for 15 an hour on 3 nodes, 18
// for 16 (6 each). Each says so in its headers: a limit of its share.
func TestRedisOutageShares(t *testing.T) {
	rd := testenv.RedisServer(t)
	ck := limitertest.NewClock()
	ls, cc := nodes(t, rd, 3, ck)
	cc.failing.Store(true)
	for _, c := range []struct{ limit, share, want int }{{15, 5, 15}, {16, 6, 18}, {2, 1, 3}} {
		key := fmt.Sprintf("token:%d", c.limit)
		r := limitertest.Check(t, ls[0], key, c.limit, time.Hour)
		if !r.Allowed || r.Limit != c.share || r.Remaining != c.share-1 {
			t.Fatalf("%d an hour, first check during the outage: got %+v, want allowed with a limit of %d, the share, and %d remaining", c.limit, r, c.share, c.share-1)
		}
		got, last := spend(t, ls, key, c.limit)
		if got+1 != c.want {
			t.Fatalf("%d an hour on 3 nodes while Redis is down: got %d allowed in all, want %d (3 shares of %d)", c.limit, got+1, c.want, c.share)
		}
		for i, r := range last {
			if r.Allowed || r.Limit != c.share || r.RetryAfter != time.Hour/time.Duration(c.share) {
				t.Fatalf("node %d, spent: got %+v, want refused with a limit of %d and a retry in %s", i, r, c.share, time.Hour/time.Duration(c.share))
			}
		}
	}
	for i, l := range ls {
		if l.Failures() == 0 {
			t.Fatalf("node %d counted no Redis failure", i)
		}
	}
}

// Nodes that had heard from Redis about a key start the outage with
// ⌊R/N⌋ each of the R that Redis last told them remains: 6 of 15 spent
// through Redis, round the 3 nodes (they last heard 11, 10 and 9), then 3
// each while Redis is down: 15 in all, the limit. Once Redis is back, the
// budget is shared again, from Redis's count, across all nodes.
func TestRedisOutageLastKnown(t *testing.T) {
	rd := testenv.RedisServer(t)
	ck := limitertest.NewClock()
	ls, cc := nodes(t, rd, 3, ck)
	const key, limit = "token:tok_1", 15
	for i := 0; i < 6; i++ {
		r := limitertest.Check(t, ls[i%3], key, limit, time.Hour)
		if !r.Allowed || r.Remaining != limit-1-i || r.Limit != limit {
			t.Fatalf("request %d through Redis: got %+v, want allowed with %d of %d remaining", i+1, r, limit-1-i, limit)
		}
	}
	cc.failing.Store(true)
	got, _ := spend(t, ls, key, limit)
	if got != 9 {
		t.Fatalf("while Redis is down: got %d allowed across 3 nodes after 6 through Redis, want 9 (3 each, ⌊11/3⌋, ⌊10/3⌋, ⌊9/3⌋): %d in all, want %d", got, got+6, limit)
	}
	// Some time passes: each node's share comes back at one every 12
	// minutes (5 an hour), never faster.
	ck.Add(12 * time.Minute)
	if got, _ := spend(t, ls, key, limit); got != 3 {
		t.Fatalf("12 minutes on: got %d allowed across 3 nodes, want 3, one each", got)
	}

	cc.failing.Store(false)
	time.Sleep(2 * time.Millisecond) // past the pause
	r := limitertest.Check(t, ls[1], key, limit, time.Hour)
	// Redis's count: 6 spent 12 minutes ago, of which 3 are back (one
	// every 4 minutes): 12 left before this one.
	if !r.Allowed || r.Limit != limit || r.Remaining != 11 {
		t.Fatalf("back on Redis: got %+v, want allowed with 11 of %d remaining (Redis's count)", r, limit)
	}
	got, _ = spend(t, ls, key, limit)
	if got != 11 {
		t.Fatalf("back on Redis: got %d more allowed across 3 nodes, want 11, one shared budget", got)
	}
	// Redis's count is whole again after an hour; so is each node's share.
	ck.Add(2 * time.Hour)
	if r := limitertest.Check(t, ls[2], key, limit, time.Hour); !r.Allowed || r.Remaining != limit-1 {
		t.Fatalf("an idle key back on Redis: got %+v, want the whole budget", r)
	}
}

// Nodes 0 means 1; a negative count also.
func TestRedisNodesDefault(t *testing.T) {
	for _, n := range []int{0, -3, 1} {
		if got := redislimit.New(nil, redislimit.Options{Nodes: n}).Nodes(); got != 1 {
			t.Fatalf("Nodes %d: got %d, want 1", n, got)
		}
	}
	if got := redislimit.New(nil, redislimit.Options{Nodes: 4}).Nodes(); got != 4 {
		t.Fatalf("Nodes 4: got %d", got)
	}
}

// What a node heard from Redis is its own: a node Redis refused admits
// nothing of the key while Redis is down (until its share comes back),
// while one that never heard of the key has its whole share. The bound
// holds whatever each heard: at most N·⌈L/N⌉ beyond what Redis admitted.
func TestRedisOutageStale(t *testing.T) {
	rd := testenv.RedisServer(t)
	ck := limitertest.NewClock()
	ls, cc := nodes(t, rd, 3, ck)
	const key, limit = "ip:192.0.2.1", 6
	for i := 0; i < limit; i++ {
		limitertest.Check(t, ls[0], key, limit, time.Hour)
	}
	if r := limitertest.Check(t, ls[0], key, limit, time.Hour); r.Allowed {
		t.Fatalf("through Redis, past the limit: got %+v, want refused", r)
	}
	cc.failing.Store(true)
	if r := limitertest.Check(t, ls[0], key, limit, time.Hour); r.Allowed || r.Limit != 2 || r.RetryAfter != 30*time.Minute {
		t.Fatalf("the node Redis refused, Redis down: got %+v, want refused, its share of 2 back in 30 minutes", r)
	}
	for i, l := range ls[1:] {
		got, _ := spend(t, []*redislimit.Limiter{l}, key, limit)
		if got != 2 {
			t.Fatalf("node %d, which never heard of the key: got %d allowed, want its share, 2", i+1, got)
		}
	}
}
