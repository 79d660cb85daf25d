package service

// auditedSet maps token id keys to their audit state: an open-addressing
// table with linear probing, of 16-byte slots and no pointer, filled to at
// most three quarters. A million tokens take about 28 bytes each, where a
// Go map of the same keys and values took about 50. Not safe for
// concurrent use: the usage tracker's lock guards it.
type auditedSet struct {
	slots []auditedSlot // a power of two long; key 0 marks an empty slot
	n     int
}

type auditedSlot struct {
	key idKey
	val auditedUse
}

// minAuditedSlots is the size of the table's first allocation.
const minAuditedSlots = 64

// slotKey is the key as the table stores it: never 0, the mark of an
// empty slot (id keys are FNV-1a hashes; one of 0 is stored as 1).
func slotKey(k idKey) idKey { return max(k, 1) }

// home is the slot a key starts probing at: the key's bits mixed by a
// multiplication (Fibonacci hashing), so that FNV's weaker low bits do not
// cluster.
func (s *auditedSet) home(k idKey) int {
	return int((uint64(k) * 0x9e3779b97f4a7c15) >> 32 & uint64(len(s.slots)-1))
}

// get returns the state of key k, and whether there is one.
func (s *auditedSet) get(k idKey) (auditedUse, bool) {
	if s.n == 0 {
		return 0, false
	}
	k = slotKey(k)
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i].key {
		case k:
			return s.slots[i].val, true
		case 0:
			return 0, false
		}
	}
}

// set stores v as the state of key k.
func (s *auditedSet) set(k idKey, v auditedUse) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	k = slotKey(k)
	mask := len(s.slots) - 1
	for i := s.home(k); ; i = (i + 1) & mask {
		switch s.slots[i].key {
		case k:
			s.slots[i].val = v
			return
		case 0:
			s.slots[i] = auditedSlot{k, v}
			s.n++
			return
		}
	}
}

// grow doubles the table (or makes its first one) and places every slot
// again.
func (s *auditedSet) grow() {
	old := s.slots
	s.slots = make([]auditedSlot, max(minAuditedSlots, 2*len(old)))
	mask := len(s.slots) - 1
	for _, sl := range old {
		if sl.key == 0 {
			continue
		}
		i := s.home(sl.key)
		for s.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = sl
	}
}

// len returns how many keys the table holds.
func (s *auditedSet) len() int { return s.n }
