package verify

import (
	"encoding/binary"

	"github.com/keyward/keyward"
)

// table is one shard's tokens: an open-addressing hash table with linear
// probing, keyed by the token hash each entry holds. A slot is a pointer
// and a tag of 8 bytes of the hash (16 bytes, against a Go map's 40 for
// a 32-byte key and a pointer), which keeps a million tokens well under
// the memory budget; in one cache line with the pointer, the tag spares
// reading any entry but the one sought. Token hashes are uniformly
// random, so their bytes serve as the table's hash. It is not safe for
// concurrent use: the shard's lock guards it.
type table struct {
	slots []slot
	n     int
}

// slot is one place of a table; tag 0 is empty.
type slot struct {
	tag uint64
	e   *entry
}

// minTableSize is the size of a table's first allocation.
const minTableSize = 16

// home returns the slot a hash starts probing at, and its tag (never 0).
func (t *table) home(h *keyward.Hash) (int, uint64) {
	x := binary.LittleEndian.Uint64(h[8:16])
	return int(x & uint64(len(t.slots)-1)), binary.LittleEndian.Uint64(h[16:24]) | 1
}

// get returns the entry for h, nil if there is none.
func (t *table) get(h *keyward.Hash) *entry {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	i, tag := t.home(h)
	for {
		switch sl := &t.slots[i]; sl.tag {
		case 0:
			return nil
		case tag:
			if sl.e.hash == *h {
				return sl.e
			}
		}
		i = (i + 1) & mask
	}
}

// put stores e under its hash, replacing an entry with the same hash.
func (t *table) put(e *entry) {
	if (t.n+1)*4 > len(t.slots)*3 {
		t.grow()
	}
	mask := len(t.slots) - 1
	i, tag := t.home(&e.hash)
	for t.slots[i].tag != 0 {
		if t.slots[i].tag == tag && t.slots[i].e.hash == e.hash {
			t.slots[i].e = e
			return
		}
		i = (i + 1) & mask
	}
	t.slots[i] = slot{tag, e}
	t.n++
}

// grow doubles the table (or makes its first one) and places every entry
// again.
func (t *table) grow() {
	old := t.slots
	size := max(minTableSize, 2*len(old))
	t.slots, t.n = make([]slot, size), 0
	for _, sl := range old {
		if sl.tag != 0 {
			t.put(sl.e)
		}
	}
}

// del removes the entry for h, if any, shifting back the entries after
// it in its probe run so that no look-up stops short of them.
func (t *table) del(h *keyward.Hash) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i, tag := t.home(h)
	for {
		if t.slots[i].tag == 0 {
			return
		}
		if t.slots[i].tag == tag && t.slots[i].e.hash == *h {
			break
		}
		i = (i + 1) & mask
	}
	t.removeAt(i)
}

// removeAt empties slot i and closes the gap it leaves.
func (t *table) removeAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].tag != 0; j = (j + 1) & mask {
		k, _ := t.home(&t.slots[j].e.hash)
		// The entry at j may move to i unless its home lies cyclically
		// in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = slot{}
	t.n--
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
