package usage

import (
	"math/rand/v2"
	"testing"
)

// The table against a Go map: keys drawn from a small set, so that sets
// replace as often as they add, with keys 0 and 1 among them, and runs
// that cluster and wrap.
func TestUsageStates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]idKey, 5000)
	for i := range keys {
		keys[i] = idKey(rng.Uint64())
	}
	keys[0], keys[1] = 0, 1 // both stored as 1: the same key
	type state struct {
		a auditedUse
		w writtenUse
	}
	var s usageStates
	ref := map[idKey]state{}
	for step := range 50000 {
		k := keys[rng.IntN(len(keys))]
		if k == 0 {
			k = 1
		}
		v := state{audited(int64(step), uint32(rng.IntN(100))), writtenUse{uint32(step), rng.Uint32()}}
		s.set(k, v.a, v.w)
		ref[k] = v
		if step%5000 == 0 || step == 49999 {
			if s.len() != len(ref) {
				t.Fatalf("step %d: %d keys held, want %d", step, s.len(), len(ref))
			}
			for k, want := range ref {
				if a, w, ok := s.get(k); !ok || (state{a, w}) != want {
					t.Fatalf("step %d: key %x: got %v, %v, %v; want %v", step, k, a, w, ok, want)
				}
			}
			if s.len()*4 > len(s.slots)*3 {
				t.Fatalf("step %d: %d keys in %d slots, more than three quarters", step, s.len(), len(s.slots))
			}
		}
	}
	for range 1000 {
		k := idKey(rng.Uint64())
		if _, held := ref[k]; held || k <= 1 {
			continue
		}
		if _, _, ok := s.get(k); ok {
			t.Fatalf("key %x never set is found", k)
		}
	}
	var empty usageStates
	if _, _, ok := empty.get(7); ok {
		t.Fatal("an empty table finds a key")
	}
}
