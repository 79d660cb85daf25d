package verify

import (
	"encoding/binary"

	"github.com/keyward/keyward"
)

// table is one shard's tokens: an open-addressing hash table with linear
// probing, keyed by the token hash each entry holds. A slot costs a
// pointer and a one-byte tag (9 bytes, against a Go map's 40 for a
// 32-byte key and a pointer), which keeps a million tokens well under
// the memory budget; the tag spares a look-up most entry reads. Token
// hashes are uniformly random, so their bytes serve as the table's hash.
// It is not safe for concurrent use: the shard's lock guards it.
type table struct {
	slots []*entry
	tags  []uint8 // 0: empty
	n     int
}

// minTableSize is the size of a table's first allocation.
const minTableSize = 16

// home returns the slot a hash starts probing at, and its tag.
func (t *table) home(h *keyward.Hash) (int, uint8) {
	x := binary.LittleEndian.Uint64(h[8:16])
	return int(x & uint64(len(t.slots)-1)), h[16]%255 + 1
}

// get returns the entry for h, nil if there is none.
func (t *table) get(h *keyward.Hash) *entry {
	if t.n == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	i, tag := t.home(h)
	for {
		switch t.tags[i] {
		case 0:
			return nil
		case tag:
			if e := t.slots[i]; e.hash == *h {
				return e
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
	for t.tags[i] != 0 {
		if t.tags[i] == tag && t.slots[i].hash == e.hash {
			t.slots[i] = e
			return
		}
		i = (i + 1) & mask
	}
	t.slots[i], t.tags[i] = e, tag
	t.n++
}

// grow doubles the table (or makes its first one) and places every entry
// again.
func (t *table) grow() {
	old := t.slots
	size := max(minTableSize, 2*len(old))
	t.slots, t.tags, t.n = make([]*entry, size), make([]uint8, size), 0
	for _, e := range old {
		if e != nil {
			t.put(e)
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
		if t.tags[i] == 0 {
			return
		}
		if t.tags[i] == tag && t.slots[i].hash == *h {
			break
		}
		i = (i + 1) & mask
	}
	t.removeAt(i)
}

// removeAt empties slot i and closes the gap it leaves.
func (t *table) removeAt(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.tags[j] != 0; j = (j + 1) & mask {
		k, _ := t.home(&t.slots[j].hash)
		// The entry at j may move to i unless its home lies cyclically
		// in (i, j].
		if (j > i && (k <= i || k > j)) || (j < i && k <= i && k > j) {
			t.slots[i], t.tags[i] = t.slots[j], t.tags[j]
			i = j
		}
	}
	t.slots[i], t.tags[i] = nil, 0
	t.n--
}

// evictOne removes some entry, starting its search at slot from.
func (t *table) evictOne(from int) {
	if t.n == 0 {
		return
	}
	mask := len(t.slots) - 1
	i := from & mask
	for t.tags[i] == 0 {
		i = (i + 1) & mask
	}
	t.removeAt(i)
}
