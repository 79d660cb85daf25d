package verify

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unsafe"

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
	tb := table{st: newStates()}
	// ref holds what each hash's entry should be: its generation and text
	// tell one put from another.
	type wanted struct {
		generation int32
		text       string
	}
	ref := map[keyward.Hash]wanted{}
	same := func(got *entry, want wanted, ok bool) bool {
		if got == nil || !ok {
			return got == nil && !ok
		}
		return got.generation == want.generation && textOf(&tb, got) == want.text
	}
	check := func(step int) {
		if tb.n != len(ref) {
			t.Fatalf("step %d: table holds %d, want %d", step, tb.n, len(ref))
		}
		for h, want := range ref {
			if got := tb.get(&h); !same(got, want, true) {
				t.Fatalf("step %d: get: got %+v, want %+v", step, got, want)
			}
		}
	}
	// copies are texts taken out of the table at some step: chunk bytes
	// are never written again, so they stay as they were.
	type copied struct {
		held, text string
	}
	var copies []copied
	for step := range 60000 {
		h := pool[rng.IntN(len(pool))]
		switch op := rng.IntN(10); {
		case op < 5:
			text := strings.Repeat(string(rune('a'+step%26)), rng.IntN(300))
			e := entry{hash: keyOf(&h), generation: int32(step)}
			e.ends[numFields-1] = uint16(len(text))
			tb.put(&e, text)
			ref[h] = wanted{e.generation, text}
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
		want, ok := ref[h]
		got := tb.get(&h)
		if !same(got, want, ok) {
			t.Fatalf("step %d: get after op: got %+v, want %+v (%v)", step, got, want, ok)
		}
		if got != nil && step%100 == 0 {
			text := textOf(&tb, got)
			copies = append(copies, copied{text, strings.Clone(text)})
		}
	}
	for _, c := range copies {
		if c.held != c.text {
			t.Fatalf("a copy's text changed: got %q, want %q", c.held, c.text)
		}
	}
	if tb.text.live < 0 || tb.text.dead < 0 {
		t.Fatalf("arena accounting: live %d, dead %d", tb.text.live, tb.text.dead)
	}
	live := 0
	for _, e := range ref {
		live += len(e.text)
	}
	if tb.text.live != live {
		t.Errorf("arena: %d live bytes, want %d", tb.text.live, live)
	}
	if len(tb.recs)-len(tb.free) != tb.n {
		t.Errorf("slab: %d places, %d free, for %d entries", len(tb.recs), len(tb.free), tb.n)
	}
	check(-1)
	for h := range ref {
		tb.del(&h)
	}
	if tb.n != 0 {
		t.Fatalf("after deleting all: %d left", tb.n)
	}
}

// An entry stays small, and holds no pointer: a million of them are most
// of what a million cached tokens cost, and the garbage collector must
// not scan them.
func TestEntrySize(t *testing.T) {
	if got := unsafe.Sizeof(entry{}); got > 88 {
		t.Errorf("an entry is %d bytes, want at most 88", got)
	}
	var check func(path string, typ reflect.Type)
	check = func(path string, typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Struct:
			for i := range typ.NumField() {
				check(path+"."+typ.Field(i).Name, typ.Field(i).Type)
			}
		case reflect.Array:
			check(path+"[]", typ.Elem())
		case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		default:
			t.Errorf("entry%s is a %s: the slab would hold a pointer", path, typ.Kind())
		}
	}
	check("", reflect.TypeFor[entry]())
}

// textOf returns the text of e, an entry of tb.
func textOf(tb *table, e *entry) string {
	var h held
	tb.resolve(e, &h)
	return h.text
}
