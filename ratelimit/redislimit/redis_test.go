package redislimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/ratelimit/limitertest"
	"github.com/keyward/keyward/ratelimit/redislimit"
)

func TestRedis(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, now func() time.Time) limitertest.Limiter {
		rd := testenv.RedisServer(t)
		return redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix, Now: now})
	})
}

// commandCounter counts the commands a client sends, and fails them while
// failing is set.
type commandCounter struct {
	mu      sync.Mutex
	names   []string
	failing atomic.Bool
}

var errInjected = errors.New("injected failure")

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.mu.Lock()
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		if c.failing.Load() {
			cmd.SetErr(errInjected)
			return errInjected
		}
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (c *commandCounter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.names
	c.names = nil
	return out
}

// Each check is one EVALSHA: one round trip, once the script is loaded.
func TestRedisOneRoundTrip(t *testing.T) {
	rd := testenv.RedisServer(t)
	cc := &commandCounter{}
	rd.Client.AddHook(cc)
	l := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	ctx := context.Background()
	// The first check may load the script (EVALSHA, then EVAL on NOSCRIPT).
	if _, err := l.Allow(ctx, "warm", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	cc.take()
	for i := 0; i < 20; i++ {
		if _, err := l.Allow(ctx, "k", 10, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	got := cc.take()
	if len(got) != 20 {
		t.Fatalf("got %d commands for 20 checks (%v), want 20", len(got), got)
	}
	for _, name := range got {
		if name != "evalsha" {
			t.Fatalf("got command %q, want evalsha", name)
		}
	}
}

// Keys live under the prefix and expire when their budget is back; on
// Redis's own clock, the budget holds.
func TestRedisKeysAndServerClock(t *testing.T) {
	rd := testenv.RedisServer(t)
	l := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		r := limitertest.Check(t, l, "token:tok_1", 3, time.Hour)
		if !r.Allowed || r.Remaining != 3-i || r.Limit != 3 {
			t.Fatalf("request %d: got %+v, want allowed with %d remaining", i, r, 3-i)
		}
	}
	r := limitertest.Check(t, l, "token:tok_1", 3, time.Hour)
	if r.Allowed || r.Remaining != 0 || r.RetryAfter <= 0 || r.RetryAfter > 20*time.Minute {
		t.Fatalf("request 4: got %+v, want refused with a retry within 20 minutes", r)
	}
	limitertest.Check(t, l, "ip:192.0.2.1", 100, time.Hour)
	keys, err := rd.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("got keys %v, want 2 under %s", keys, rd.Prefix)
	}
	ttl, err := rd.Client.PTTL(ctx, rd.Prefix+"token:tok_1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Hour {
		t.Fatalf("got a TTL of %s, want one within the hour it takes to get the budget back", ttl)
	}
	ttl, err = rd.Client.PTTL(ctx, rd.Prefix+"ip:192.0.2.1").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > 36*time.Second {
		t.Fatalf("got a TTL of %s for one request of 100 an hour, want at most 36s", ttl)
	}
}

// Two limiters (two nodes) with one prefix share one budget; another
// prefix has its own.
func TestRedisSharedBudget(t *testing.T) {
	rd := testenv.RedisServer(t)
	a := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	b := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	other := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix + "other:"})
	allowed := 0
	for i := 0; i < 10; i++ {
		for _, l := range []*redislimit.Limiter{a, b} {
			if limitertest.Check(t, l, "k", 7, time.Hour).Allowed {
				allowed++
			}
		}
	}
	if allowed != 7 {
		t.Fatalf("got %d allowed across two limiters, want 7", allowed)
	}
	if r := limitertest.Check(t, other, "k", 7, time.Hour); !r.Allowed || r.Remaining != 6 {
		t.Fatalf("another prefix: got %+v, want a budget of its own", r)
	}
}

// When Redis fails, the limiter answers from its per-node fallback, warns,
// counts the failure, leaves Redis alone for the pause, and comes back.
func TestRedisFailsOver(t *testing.T) {
	rd := testenv.RedisServer(t)
	cc := &commandCounter{}
	rd.Client.AddHook(cc)
	ck := limitertest.NewClock()
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	l := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix, Now: ck.Now, Logger: logger, Pause: time.Hour})
	limitertest.Check(t, l, "k", 3, time.Hour) // one of 3 spent in Redis
	cc.take()

	cc.failing.Store(true)
	// One node (Nodes 0 means 1) goes on from Redis's count: 2 of 3 left.
	for i := 1; i <= 2; i++ {
		r := limitertest.Check(t, l, "k", 3, time.Hour)
		if !r.Allowed || r.Remaining != 2-i || r.Limit != 3 {
			t.Fatalf("fallback request %d: got %+v, want allowed with %d of 3 remaining (what Redis had left)", i, r, 2-i)
		}
	}
	if r := limitertest.Check(t, l, "k", 3, time.Hour); r.Allowed {
		t.Fatalf("fallback request 3: got %+v, want refused", r)
	}
	if got := l.Failures(); got != 1 {
		t.Fatalf("got %d failures, want 1", got)
	}
	if got := cc.take(); len(got) != 1 {
		t.Fatalf("got %d commands during the pause (%v), want only the one that failed", len(got), got)
	}
	logMu.Lock()
	text := logs.String()
	logMu.Unlock()
	if !strings.Contains(text, "level=WARN") || !strings.Contains(text, "Redis failed") || !strings.Contains(text, errInjected.Error()) {
		t.Fatalf("got logs %q, want a warning with the failure", text)
	}

	// A limiter whose pause is over tries Redis again, and is back.
	cc.failing.Store(false)
	l2 := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix, Now: ck.Now, Logger: logger, Pause: time.Nanosecond})
	cc.failing.Store(true)
	limitertest.Check(t, l2, "k", 3, time.Hour)
	cc.failing.Store(false)
	time.Sleep(time.Millisecond) // past the pause of a nanosecond
	r := limitertest.Check(t, l2, "k", 3, time.Hour)
	if !r.Allowed || r.Remaining != 1 {
		t.Fatalf("back on Redis: got %+v, want allowed with 1 remaining (Redis's budget: 1 spent before, and this one)", r)
	}
	logMu.Lock()
	text = logs.String()
	logMu.Unlock()
	if !strings.Contains(text, "Redis is back") {
		t.Fatalf("got logs %q, want a line saying Redis is back", text)
	}
}

// A Redis that cannot be reached at all: every check is answered, and
// none waits for a connection while paused.
func TestRedisUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connections are refused
	l, err := redislimit.Open("redis://"+addr+"/0", redislimit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Ping(context.Background()); err == nil {
		t.Fatal("Ping of a closed port: got nil, want an error")
	}
	for i := 1; i <= 3; i++ {
		r := limitertest.Check(t, l, "k", 2, time.Hour)
		if r.Allowed != (i <= 2) {
			t.Fatalf("request %d: got %+v, want the fallback's budget of 2", i, r)
		}
	}
	if got := l.Failures(); got != 1 {
		t.Fatalf("got %d failures, want 1 (then paused)", got)
	}
}

// A check whose context ends returns the context's error and is not a
// Redis failure.
func TestRedisContextEnds(t *testing.T) {
	rd := testenv.RedisServer(t)
	l := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Allow(ctx, "k", 1, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if got := l.Failures(); got != 0 {
		t.Fatalf("got %d failures, want 0", got)
	}
}

func TestOpenBadURL(t *testing.T) {
	_, err := redislimit.Open("http://user:hunter2@host/", redislimit.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an error that does not repeat the password", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
