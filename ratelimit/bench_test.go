package ratelimit_test

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/ratelimit"
)

// benchKeys are the keys the benchmarks spread their checks over, made
// before the timer starts.
func benchKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "token:tok_" + strconv.Itoa(i)
	}
	return keys
}

// benchLimiter checks keys in turn with a budget that never runs out, so
// every check does the whole work of an allowed request.
func benchLimiter(b *testing.B, l limiter, keys []string, parallel bool) {
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

func BenchmarkMemory(b *testing.B) {
	for _, n := range []int{1, 10_000, 1_000_000} {
		keys := benchKeys(n)
		m := ratelimit.NewMemory(ratelimit.MemoryOptions{MaxKeys: 2 * n})
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) { benchLimiter(b, m, keys, false) })
		b.Run("keys="+strconv.Itoa(n)+"/parallel", func(b *testing.B) { benchLimiter(b, m, keys, true) })
	}
	// The limiter's own work, without reading the system clock.
	at := time.Now()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: func() time.Time { return at }})
	b.Run("keys=10000/fixedclock", func(b *testing.B) { benchLimiter(b, m, benchKeys(10_000), false) })
}

// BenchmarkClock is the cost of reading the system clock, which every
// check of Memory does once.
func BenchmarkClock(b *testing.B) {
	var t time.Time
	for b.Loop() {
		t = time.Now()
	}
	_ = t
}

func BenchmarkRedis(b *testing.B) {
	rd := testenv.RedisServer(b)
	keys := benchKeys(10_000)
	l := ratelimit.NewRedis(rd.Client, ratelimit.RedisOptions{Prefix: rd.Prefix})
	b.Run("keys=10000", func(b *testing.B) { benchLimiter(b, l, keys, false) })
	b.Run("keys=10000/parallel", func(b *testing.B) { benchLimiter(b, l, keys, true) })
	if got := l.Failures(); got != 0 {
		b.Fatalf("got %d Redis failures during the benchmark, want 0", got)
	}
	// The floor: one bare round trip to the same Redis.
	b.Run("ping", func(b *testing.B) {
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := rd.Client.Ping(ctx).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
