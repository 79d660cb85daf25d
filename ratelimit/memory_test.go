package ratelimit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/ratelimit/limitertest"
)

func TestMemory(t *testing.T) {
	limitertest.Run(t, func(t *testing.T, now func() time.Time) limitertest.Limiter {
		return ratelimit.NewMemory(ratelimit.MemoryOptions{Now: now})
	})
}

// A check of a key already held allocates nothing.
func TestMemoryAllocations(t *testing.T) {
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{})
	ctx := context.Background()
	key := "token:tok_0123456789abcdef"
	if _, err := m.Allow(ctx, key, 1000, time.Hour); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if _, err := m.Allow(ctx, key, 1<<30, time.Hour); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("got %v allocations per check, want 0", allocs)
	}
}

// Memory holds at most MaxKeys keys, however many clients it sees.
func TestMemoryBounded(t *testing.T) {
	ck := limitertest.NewClock()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: ck.Now, MaxKeys: 1024})
	for i := 0; i < 50_000; i++ {
		// None of them idle: each key has spent some of its budget.
		limitertest.Check(t, m, fmt.Sprintf("ip:10.%d.%d.%d", i>>16, i>>8&255, i&255), 100, time.Hour)
	}
	if got := m.Len(); got > 1024 || got < 1024-64 {
		t.Fatalf("got %d keys held, want at most 1024 and near it", got)
	}
}

// Withhold takes budget away and never gives any back; it is bounded
// like Allow.
func TestMemoryWithhold(t *testing.T) {
	ck := limitertest.NewClock()
	m := ratelimit.NewMemory(ratelimit.MemoryOptions{Now: ck.Now, MaxKeys: 64})
	// 10 an hour: one request costs 6 minutes.
	m.Withhold("k", 18*time.Minute)
	if r := limitertest.Check(t, m, "k", 10, time.Hour); !r.Allowed || r.Remaining != 6 {
		t.Fatalf("after withholding 3 requests: got %+v, want allowed with 6 remaining", r)
	}
	m.Withhold("k", time.Minute) // less than is already spent: no change
	m.Withhold("k", -time.Hour)
	if r := limitertest.Check(t, m, "k", 10, time.Hour); !r.Allowed || r.Remaining != 5 {
		t.Fatalf("after a smaller withholding: got %+v, want allowed with 5 remaining", r)
	}
	m.Withhold("k", 2*time.Hour) // more than the whole budget: nothing left
	if r := limitertest.Check(t, m, "k", 10, time.Hour); r.Allowed {
		t.Fatalf("after withholding more than the budget: got %+v, want refused", r)
	}
	ck.Add(2 * time.Hour)
	if r := limitertest.Check(t, m, "k", 10, time.Hour); !r.Allowed || r.Remaining != 9 {
		t.Fatalf("once the time withheld is past: got %+v, want the whole budget", r)
	}
	for i := 0; i < 10_000; i++ {
		m.Withhold(fmt.Sprintf("w%d", i), time.Hour)
	}
	if got := m.Len(); got > 64 {
		t.Fatalf("got %d keys held, want at most 64", got)
	}
}
