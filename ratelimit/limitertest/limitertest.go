// Package limitertest is the behaviour every rate limiter of keyward
// shares (ratelimit.Memory, redislimit.Limiter), as tests and benchmarks
// that each implementation's own tests run.
package limitertest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/ratelimit"
)

// Limiter is what every implementation offers.
type Limiter interface {
	Allow(ctx context.Context, key string, limit int, window time.Duration) (ratelimit.Result, error)
}

// Clock is a controllable time, at whole microseconds so that both
// implementations see the same instants.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock at a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Check calls Allow and fails the test on an error.
func Check(t testing.TB, l Limiter, key string, limit int, window time.Duration) ratelimit.Result {
	t.Helper()
	r, err := l.Allow(context.Background(), key, limit, window)
	if err != nil {
		t.Fatalf("Allow(%q, %d, %s): %v", key, limit, window, err)
	}
	return r
}

// want fails the test unless r is what is wanted.
func want(t testing.TB, what string, got, wanted ratelimit.Result) {
	t.Helper()
	if got.Allowed != wanted.Allowed || got.Limit != wanted.Limit || got.Remaining != wanted.Remaining ||
		!got.Reset.Equal(wanted.Reset) || got.RetryAfter != wanted.RetryAfter {
		t.Fatalf("%s: got %+v, want %+v", what, got, wanted)
	}
}

// Run runs the behaviour every implementation shares. newLimiter returns
// a limiter on the clock, with no key in common with any other limiter it
// returned.
func Run(t *testing.T, newLimiter func(t *testing.T, now func() time.Time) Limiter) {
	t.Run("Budget", func(t *testing.T) {
		ck := NewClock()
		l := newLimiter(t, ck.Now)
		start := ck.Now()
		// 5 an hour: one request costs 12 minutes, and all 5 fit at once.
		for i := 1; i <= 5; i++ {
			got := Check(t, l, "k", 5, time.Hour)
			want(t, fmt.Sprintf("request %d", i), got, ratelimit.Result{
				Allowed: true, Limit: 5, Remaining: 5 - i, Reset: start.Add(time.Duration(i) * 12 * time.Minute),
			})
		}
		got := Check(t, l, "k", 5, time.Hour)
		want(t, "request 6", got, ratelimit.Result{
			Limit: 5, Remaining: 0, Reset: start.Add(time.Hour), RetryAfter: 12 * time.Minute,
		})
		// A refused request costs nothing.
		ck.Add(11 * time.Minute)
		got = Check(t, l, "k", 5, time.Hour)
		want(t, "11 minutes later", got, ratelimit.Result{
			Limit: 5, Reset: start.Add(time.Hour), RetryAfter: time.Minute,
		})
		// One request comes back every 12 minutes.
		ck.Add(time.Minute)
		got = Check(t, l, "k", 5, time.Hour)
		want(t, "12 minutes later", got, ratelimit.Result{
			Allowed: true, Limit: 5, Remaining: 0, Reset: start.Add(time.Hour + 12*time.Minute),
		})
		if got := Check(t, l, "k", 5, time.Hour); got.Allowed {
			t.Fatalf("second request 12 minutes later: got %+v, want refused", got)
		}
		// Once the whole budget is back, the key is as new.
		ck.Add(3 * time.Hour)
		for i := 1; i <= 5; i++ {
			if got := Check(t, l, "k", 5, time.Hour); !got.Allowed || got.Remaining != 5-i {
				t.Fatalf("after the reset, request %d: got %+v, want allowed with %d remaining", i, got, 5-i)
			}
		}
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		ck := NewClock()
		l := newLimiter(t, ck.Now)
		for i := 0; i < 3; i++ {
			Check(t, l, "a", 3, time.Minute)
		}
		if got := Check(t, l, "a", 3, time.Minute); got.Allowed {
			t.Fatalf("a: got %+v, want refused", got)
		}
		if got := Check(t, l, "b", 3, time.Minute); !got.Allowed || got.Remaining != 2 {
			t.Fatalf("b: got %+v, want allowed with 2 remaining", got)
		}
	})

	t.Run("LimitChanges", func(t *testing.T) {
		// A token's override can change between two requests: the time
		// the key has spent carries over, and requests come back at the
		// new pace.
		ck := NewClock()
		l := newLimiter(t, ck.Now)
		start := ck.Now()
		for i := 0; i < 10; i++ {
			Check(t, l, "k", 10, time.Hour)
		}
		got := Check(t, l, "k", 20, time.Hour)
		want(t, "10 of 10 spent, raised to 20", got, ratelimit.Result{
			Limit: 20, Reset: start.Add(time.Hour), RetryAfter: 3 * time.Minute,
		})
		ck.Add(3 * time.Minute)
		got = Check(t, l, "k", 20, time.Hour)
		want(t, "3 minutes later", got, ratelimit.Result{
			Allowed: true, Limit: 20, Reset: start.Add(time.Hour + 3*time.Minute),
		})
		// Lowered half an hour later: 30 minutes still spent, plus 12 for
		// this request, of an hour of 5.
		ck.Add(30 * time.Minute)
		got = Check(t, l, "k", 5, time.Hour)
		want(t, "lowered to 5 half an hour later", got, ratelimit.Result{
			Allowed: true, Limit: 5, Remaining: 1, Reset: ck.Now().Add(42 * time.Minute),
		})
	})

	t.Run("InvalidLimit", func(t *testing.T) {
		l := newLimiter(t, NewClock().Now)
		for _, c := range []struct {
			limit  int
			window time.Duration
		}{{0, time.Hour}, {-1, time.Hour}, {5, 0}, {5, -time.Second}} {
			if _, err := l.Allow(context.Background(), "k", c.limit, c.window); !errors.Is(err, ratelimit.ErrInvalidLimit) {
				t.Errorf("Allow(limit %d, window %s): got %v, want ErrInvalidLimit", c.limit, c.window, err)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Racing requests never spend more than the budget, nor less.
		l := newLimiter(t, NewClock().Now)
		const workers, each, limit = 8, 50, 137
		var allowed atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					r, err := l.Allow(context.Background(), "shared", limit, time.Hour)
					if err != nil {
						t.Error(err)
						return
					}
					if r.Allowed {
						allowed.Add(1)
					}
					// And keys of their own, in the other shards.
					if _, err := l.Allow(context.Background(), fmt.Sprintf("own-%d-%d", w, i), 1, time.Hour); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if got := allowed.Load(); got != limit {
			t.Fatalf("got %d requests allowed of %d, want exactly %d", got, workers*each, limit)
		}
	})
}

// Keys are n keys for benchmarks to spread their checks over, made
// before the timer starts.
func Keys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "token:tok_" + strconv.Itoa(i)
	}
	return keys
}

// Bench checks keys in turn with a budget that never runs out, so
// every check does the whole work of an allowed request.
func Bench(b *testing.B, l Limiter, keys []string, parallel bool) {
	ctx := context.Background()
	for _, k := range keys {
		if _, err := l.Allow(ctx, k, 1<<30, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if !parallel {
		for i := 0; b.Loop(); i++ {
			if _, err := l.Allow(ctx, keys[i%len(keys)], 1<<30, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1) * 7919)
		for pb.Next() {
			if _, err := l.Allow(ctx, keys[i%len(keys)], 1<<30, time.Hour); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
