package redislimit_test

import (
	"context"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/ratelimit/limitertest"
	"github.com/keyward/keyward/ratelimit/redislimit"
)

func BenchmarkRedis(b *testing.B) {
	rd := testenv.RedisServer(b)
	keys := limitertest.Keys(10_000)
	l := redislimit.New(rd.Client, redislimit.Options{Prefix: rd.Prefix})
	b.Run("keys=10000", func(b *testing.B) { limitertest.Bench(b, l, keys, false) })
	b.Run("keys=10000/parallel", func(b *testing.B) { limitertest.Bench(b, l, keys, true) })
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
