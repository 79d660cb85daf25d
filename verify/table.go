package verify

import (
	"encoding/binary"
	"unsafe"

	"github.com/keyward/keyward"
)

// table is one shard's tokens: the entries themselves in one slice (a
// slab: no allocation, and no object for the garbage collector to find,
// per token), their strings in large shared chunks of bytes, and an
// open-addressing hash table with linear probing that maps a token hash
// to its entry's place in the slab. A slot is 8 bytes: 4 of the hash as a
// tag, which spares reading any entry but the one sought, and the
// entry's index. Token hashes are uniformly random, so their bytes serve
// as the table's hash. It is not safe for concurrent use: the shard's
// lock guards it. Pointers into the slab and the strings it returns are
// good only while the lock is held; a copy of an entry stays good, as
// chunk bytes are never written twice.
type table struct {
	slots []slot
	n     int

	recs []entry
	free []int32 // places in recs of deleted entries

	text textArena
}

// slot is one place of the hash table; tag 0 is empty.
type slot struct {
	tag uint32
	idx int32
}

// minTableSize is the size of a table's first allocation.
const minTableSize = 16

// home returns the slot a hash starts probing at, and its tag (never 0).
// (The shard is the first byte's.)
func (t *table) home(k *hashKey) (int, uint32) {
	x := binary.LittleEndian.Uint64(k[8:16])
	return int(x & uint64(len(t.slots)-1)), binary.LittleEndian.Uint32(k[4:8]) | 1
}

// find returns the slot holding k, -1 if none does.
func (t *table) find(k hashKey) int {
	if t.n == 0 {
		return -1
	}
	mask := len(t.slots) - 1
	i, tag := t.home(&k)
	for {
		switch sl := &t.slots[i]; sl.tag {
		case 0:
			return -1
		case tag:
			if t.recs[sl.idx].hash == k {
				return i
			}
		}
		i = (i + 1) & mask
	}
}

// get returns the entry for h, nil if there is none. The pointer is into
// the slab: copy the entry before the lock is let go.
func (t *table) get(h *keyward.Hash) *entry {
	if i := t.find(keyOf(h)); i >= 0 {
		return &t.recs[t.slots[i].idx]
	}
	return nil
}

// put stores a copy of e under its hash, with its strings in the table's
// chunks, replacing an entry with the same hash.
func (t *table) put(e *entry) {
	c := *e
	c.text = t.text.add(e.text)
	if i := t.find(e.hash); i >= 0 {
		old := &t.recs[t.slots[i].idx]
		t.text.release(len(old.text))
		*old = c
		t.maybeCompact()
		return
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	var idx int32
	if n := len(t.free); n > 0 {
		idx, t.free = t.free[n-1], t.free[:n-1]
		t.recs[idx] = c
	} else {
		idx = int32(len(t.recs))
		t.recs = append(t.recs, c)
	}
	t.place(idx)
	t.n++
}

// place puts entry idx in the first empty slot of its probe run.
func (t *table) place(idx int32) {
	mask := len(t.slots) - 1
	i, tag := t.home(&t.recs[idx].hash)
	for t.slots[i].tag != 0 {
		i = (i + 1) & mask
	}
	t.slots[i] = slot{tag, idx}
}

// grow doubles the hash table (or makes its first one) and places every
// entry again.
func (t *table) grow() {
	old := t.slots
	t.slots = make([]slot, max(minTableSize, 2*len(old)))
	for _, sl := range old {
		if sl.tag != 0 {
			t.place(sl.idx)
		}
	}
}

// del removes the entry for h, if any.
func (t *table) del(h *keyward.Hash) {
	if i := t.find(keyOf(h)); i >= 0 {
		t.removeAt(i)
	}
}

// removeAt deletes the entry of slot i, and empties the slot closing the
// gap it leaves: the entries after it in its probe run shift back, so
// that no look-up stops short of them.
func (t *table) removeAt(i int) {
	idx := t.slots[i].idx
	t.text.release(len(t.recs[idx].text))
	t.recs[idx] = entry{} // lets go of its states for the collector
	t.free = append(t.free, idx)
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].tag != 0; j = (j + 1) & mask {
		k, _ := t.home(&t.recs[t.slots[j].idx].hash)
		// The entry at j may move to i unless its home lies cyclically
		// in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
	t.maybeCompact()
}

// evictOne removes some entry, starting its search at slot from.
func (t *table) evictOne(from int) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := from & mask
	for t.slots[i].tag == 0 {
		i = (i + 1) & mask
	}
	t.removeAt(i)
}

// maybeCompact copies the live entries' strings to fresh chunks once more
// of the chunks' bytes belong to entries gone than to entries held, and
// shrinks the slab once most of it is free places. The old chunks stay
// as long as a copy of an entry points into them.
func (t *table) maybeCompact() {
	if t.text.dead > t.text.live && t.text.dead >= chunkSize {
		var fresh textArena
		for _, sl := range t.slots {
			if sl.tag != 0 {
				e := &t.recs[sl.idx]
				e.text = fresh.add(e.text)
			}
		}
		t.text = fresh
	}
	if len(t.free) > 64 && len(t.free) > 3*t.n {
		recs := make([]entry, 0, 2*t.n)
		for i, sl := range t.slots {
			if sl.tag != 0 {
				recs = append(recs, t.recs[sl.idx])
				t.slots[i].idx = int32(len(recs) - 1)
			}
		}
		t.recs, t.free = recs, nil
	}
}

// chunkSize is the size of a full-grown textArena chunk: far more than
// one entry's strings, which are bounded well below it.
const chunkSize = 64 << 10

// textArena holds entries' strings end to end in chunks, so that a
// million cached tokens are a few thousand objects, not a million. Bytes
// once written are never written again.
type textArena struct {
	chunk      []byte // the chunk being filled
	live, dead int    // bytes of entries held, and of entries gone
}

// add returns a copy of s in the arena.
func (a *textArena) add(s string) string {
	if s == "" {
		return ""
	}
	a.live += len(s)
	if len(s) > chunkSize/4 {
		return string([]byte(s)) // a string of its own
	}
	if len(a.chunk)+len(s) > cap(a.chunk) {
		// Chunks grow from 1 KiB, so that 256 shards of a few tokens
		// each do not hold 16 MiB.
		a.chunk = make([]byte, 0, min(chunkSize, max(1<<10, 2*cap(a.chunk))))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, s...)
	return unsafe.String(&a.chunk[start], len(s))
}

// release notes that n bytes of the arena belong to an entry gone.
func (a *textArena) release(n int) {
	a.live -= n
	a.dead += n
}
