package usage

import "math/bits"

// usageStates maps token id keys to what this node has written of each
// token's use: when its last token.used event was written and how many
// uses have gathered since (auditedUse), and when and from which address
// its last use was last written (writtenUse). An open-addressing table
// with linear probing, of 24 bytes a slot and no pointer, filled to at
// most three quarters and grown by half: a million tokens take about 40
// bytes each, where a Go map of their audit state alone took about 50.
// Not safe for concurrent use: the Gatherer's lock guards it.
type usageStates struct {
	slots []usageSlot // key 0 marks an empty slot
	n     int
}

type usageSlot struct {
	key     idKey
	audited auditedUse
	written writtenUse
}

// writtenUse is when a token's last use was last written (Unix seconds; 0
// never) and a hash of the address written with it.
type writtenUse struct {
	at     uint32
	ipHash uint32
}

// minUsageSlots is the size of the table's first allocation.
const minUsageSlots = 64

// slotKey is the key as the table stores it: never 0, the mark of an
// empty slot (id keys are FNV-1a hashes; one of 0 is stored as 1).
func slotKey(k idKey) idKey { return max(k, 1) }

// home is the slot a key starts probing at: the key's bits mixed by a
// multiplication (so that FNV's weaker low bits do not cluster), scaled to
// the table's length.
func (s *usageStates) home(k idKey) int {
	hi, _ := bits.Mul64(uint64(k)*0x9e3779b97f4a7c15, uint64(len(s.slots)))
	return int(hi)
}

// get returns what is written of key k's use, and whether anything is.
func (s *usageStates) get(k idKey) (auditedUse, writtenUse, bool) {
	if s.n == 0 {
		return 0, writtenUse{}, false
	}
	k = slotKey(k)
	for i := s.home(k); ; i = s.next(i) {
		switch sl := &s.slots[i]; sl.key {
		case k:
			return sl.audited, sl.written, true
		case 0:
			return 0, writtenUse{}, false
		}
	}
}

// set stores what is written of key k's use.
func (s *usageStates) set(k idKey, a auditedUse, w writtenUse) {
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow()
	}
	k = slotKey(k)
	for i := s.home(k); ; i = s.next(i) {
		switch sl := &s.slots[i]; sl.key {
		case k:
			sl.audited, sl.written = a, w
			return
		case 0:
			*sl = usageSlot{k, a, w}
			s.n++
			return
		}
	}
}

func (s *usageStates) next(i int) int {
	if i++; i == len(s.slots) {
		return 0
	}
	return i
}

// grow makes the table half as long again (or makes its first one) and
// places every slot again.
func (s *usageStates) grow() {
	old := s.slots
	s.slots = make([]usageSlot, max(minUsageSlots, len(old)+len(old)/2))
	for _, sl := range old {
		if sl.key == 0 {
			continue
		}
		i := s.home(sl.key)
		for s.slots[i].key != 0 {
			i = s.next(i)
		}
		s.slots[i] = sl
	}
}

// len returns how many keys the table holds.
func (s *usageStates) len() int { return s.n }
