package verify

import (
	"encoding/binary"
	"unsafe"

	"github.com/keyward/keyward"
)

// table is one shard's tokens: the entries themselves in one slice (a
// slab: no allocation, and nothing for the garbage collector to scan, per
// token), their strings in large shared chunks of bytes, and an
// open-addressing hash table with linear probing that maps a token hash
// to its entry's place in the slab. A slot is 8 bytes: 4 of the hash as a
// tag, which spares reading any entry but the one sought, and the
// entry's index. Token hashes are uniformly random, so their bytes serve
// as the table's hash. It is not safe for concurrent use: the shard's
// lock guards it. Pointers into the slab are good only while the lock is
// held; what held returns stays good, as chunk bytes are never written
// twice and states stay numbered while an entry names them.
type table struct {
	// st numbers the states the entries name; each entry held holds a
	// reference to each of its states.
	st *states

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

// resolve sets h to what e, an entry of the table, names, and its text.
func (t *table) resolve(e *entry, h *held) {
	t.st.resolve(e, h)
	h.text = t.text.str(e.chunk, e.off, e.textLen())
}

// put stores a copy of e, attached to the table's states, under its hash,
// with its text in the table's chunks, replacing an entry with the same
// hash (and giving back its references).
func (t *table) put(e *entry, text string) {
	c := *e
	c.chunk, c.off = t.text.add(text)
	if i := t.find(e.hash); i >= 0 {
		old := &t.recs[t.slots[i].idx]
		t.text.release(old.textLen())
		t.st.release(old)
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
	t.text.release(t.recs[idx].textLen())
	t.st.release(&t.recs[idx])
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
				e.chunk, e.off = fresh.add(t.text.str(e.chunk, e.off, e.textLen()))
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
// million cached tokens are a few thousand objects, not a million, and
// none with a pointer. Bytes once written are never written again.
type textArena struct {
	chunks [][]byte
	// fill is the chunk being filled, once there are chunks; a string too
	// long to share one has a chunk of its own.
	fill       int
	live, dead int // bytes of entries held, and of entries gone
}

// add copies s into the arena and returns its place: a chunk and an
// offset in it.
func (a *textArena) add(s string) (chunk uint32, off uint16) {
	if s == "" {
		return 0, 0
	}
	a.live += len(s)
	if len(s) > chunkSize/4 {
		a.chunks = append(a.chunks, []byte(s))
		return uint32(len(a.chunks) - 1), 0
	}
	if len(a.chunks) == 0 || len(a.chunks[a.fill])+len(s) > cap(a.chunks[a.fill]) {
		// Chunks grow from 1 KiB, so that 256 shards of a few tokens
		// each do not hold 16 MiB.
		size := 1 << 10
		if len(a.chunks) > 0 {
			size = min(chunkSize, max(size, 2*cap(a.chunks[a.fill])))
		}
		a.chunks = append(a.chunks, make([]byte, 0, size))
		a.fill = len(a.chunks) - 1
	}
	b := a.chunks[a.fill]
	start := len(b)
	a.chunks[a.fill] = append(b, s...)
	return uint32(a.fill), uint16(start)
}

// str returns the n bytes at off in chunk as a string, which stays good
// after the arena is compacted or dropped.
func (a *textArena) str(chunk uint32, off uint16, n int) string {
	if n == 0 {
		return ""
	}
	return unsafe.String(&a.chunks[chunk][off], n)
}

// release notes that n bytes of the arena belong to an entry gone.
func (a *textArena) release(n int) {
	a.live -= n
	a.dead += n
}
