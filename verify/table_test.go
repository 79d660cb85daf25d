package verify

import (
	"math/rand/v2"
	"testing"

	"github.com/keyward/keyward"
)

// The table against a Go map: random puts, deletes and evictions, with
// hashes drawn from a small set so that probe runs collide, wrap and
// shift back.
func TestTable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]keyward.Hash, 3000)
	for i := range pool {
		for j := range pool[i] {
			pool[i][j] = byte(rng.IntN(256))
		}
		if i%3 == 0 {
			// Same home slot as another hash, different tag or not.
			copy(pool[i][8:16], pool[max(0, i-1)][8:16])
		}
	}
	var tb table
	ref := map[keyward.Hash]*entry{}
	check := func(step int) {
		if tb.n != len(ref) {
			t.Fatalf("step %d: table holds %d, want %d", step, tb.n, len(ref))
		}
		for h, want := range ref {
			if got := tb.get(&h); got != want {
				t.Fatalf("step %d: get: got %p, want %p", step, got, want)
			}
		}
	}
	for step := range 60000 {
		h := pool[rng.IntN(len(pool))]
		switch op := rng.IntN(10); {
		case op < 5:
			e := &entry{hash: h}
			tb.put(e)
			ref[h] = e
		case op < 9:
			tb.del(&h)
			delete(ref, h)
		default:
			if tb.n > 0 {
				n := tb.n
				tb.evictOne(rng.IntN(1 << 20))
				if tb.n != n-1 {
					t.Fatalf("step %d: evictOne left %d, want %d", step, tb.n, n-1)
				}
				for k := range ref {
					if tb.get(&k) == nil {
						delete(ref, k)
					}
				}
			}
		}
		if step%1000 == 0 {
			check(step)
		}
		if got := tb.get(&h); got != ref[h] {
			t.Fatalf("step %d: get after op: got %p, want %p", step, got, ref[h])
		}
	}
	check(-1)
	for h := range ref {
		tb.del(&h)
	}
	if tb.n != 0 {
		t.Fatalf("after deleting all: %d left", tb.n)
	}
}
