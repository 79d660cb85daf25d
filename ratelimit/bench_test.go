package ratelimit_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/ratelimit/limitertest"
)

func BenchmarkMemory(b *testing.B) {
	for _, n := range []int{1, 10_000, 1_000_000} {
		keys := limitertest.Keys(n)
		m := ratelimit.NewMemory(ratelimit.MemoryOptions{MaxKeys: 2 * n})
		b.Run("keys="+strconv.Itoa(n), func(b *testing.B) { limitertest.Bench(b, m, keys, false) })
		b.Run("keys="+strconv.Itoa(n)+"/parallel", func(b *testing.B) { limitertest.Bench(b, m, keys, true) })
	}
	// The limiter's own work, without reading the system clock.
	at := time.Now()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: func() time.Time { return at }})
	b.Run("keys=10000/fixedclock", func(b *testing.B) { limitertest.Bench(b, m, limitertest.Keys(10_000), false) })
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
