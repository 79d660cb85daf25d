package ratelimit

import (
	"context"
	"fmt"
	"hash/maphash"
	"testing"
	"time"
)

// keysPerShard returns n keys for every shard of m, found by hashing
// candidates as m does.
func keysPerShard(m *Memory, prefix string, n int) []string {
	var out []string
	count := make([]int, shardCount)
	for i := 0; len(out) < n*shardCount; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		s := maphash.String(m.seed, k) & (shardCount - 1)
		if count[s] < n {
			count[s]++
			out = append(out, k)
		}
	}
	return out
}

// holds reports whether m holds key.
func (m *Memory) holds(key string) bool {
	k := maphash.String(m.seed, key)
	sh := &m.shards[k&(shardCount-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	_, ok := sh.tats[k]
	return ok
}

// Keys whose whole budget is back are swept: every minute, each shard
// drops them at its next check.
func TestMemorySweepsIdleKeys(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	m := NewMemory(MemoryOptions{Now: func() time.Time { return now }})
	ctx := context.Background()
	old := keysPerShard(m, "old-", 10)
	for _, k := range old {
		if _, err := m.Allow(ctx, k, 10, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got := m.Len(); got != len(old) {
		t.Fatalf("got %d keys held, want %d", got, len(old))
	}
	// One request of a budget of 10 in 10 minutes is back after a minute,
	// but the sweep waits for a minute since the last one too.
	now = now.Add(30 * time.Second)
	fresh := keysPerShard(m, "fresh-", 1)
	for _, k := range fresh {
		if _, err := m.Allow(ctx, k, 10, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := m.Len(), len(old)+len(fresh); got != want {
		t.Fatalf("30 seconds later: got %d keys held, want %d (nothing idle yet)", got, want)
	}
	now = now.Add(31 * time.Second)
	for _, k := range fresh {
		if _, err := m.Allow(ctx, k, 10, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	// The old keys are idle; the fresh ones (2 requests, 30 seconds old)
	// are not.
	if got, want := m.Len(), len(fresh); got != want {
		t.Fatalf("61 seconds later: got %d keys held, want %d (the idle ones swept)", got, want)
	}
}

// A full shard evicts the key nearest to its whole budget.
func TestMemoryEvictsNearestToFull(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	m := NewMemory(MemoryOptions{Now: func() time.Time { return now }, MaxKeys: 2 * shardCount})
	ctx := context.Background()
	// Three keys of one shard, which holds two.
	var same []string
	target := maphash.String(m.seed, "a") & (shardCount - 1)
	for i := 0; len(same) < 3; i++ {
		k := fmt.Sprintf("k%d", i)
		if maphash.String(m.seed, k)&(shardCount-1) == target {
			same = append(same, k)
		}
	}
	for _, k := range same {
		if _, err := m.Allow(ctx, k, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	if m.holds(same[0]) || !m.holds(same[1]) || !m.holds(same[2]) || m.Len() != 2 {
		t.Fatalf("holds %s: %v, %s: %v, %s: %v, %d keys; want %s (nearest to full) evicted and 2 keys",
			same[0], m.holds(same[0]), same[1], m.holds(same[1]), same[2], m.holds(same[2]), m.Len(), same[0])
	}
	// The evicted key has its budget back: eviction only ever gives.
	r, err := m.Allow(ctx, same[0], 1, time.Hour)
	if err != nil || !r.Allowed {
		t.Fatalf("evicted key: got %+v, %v; want allowed", r, err)
	}
}
