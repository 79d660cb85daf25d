package verify

import (
	"sync"
	"sync/atomic"

	"github.com/keyward/keyward"
)

// states are what cached entries share: orgs with their policies, owners'
// memberships, effective permission sets, and the few tokens' extras. An
// entry names each by a number into one of the tables here, so that it
// holds no pointer: a slab of a million entries is then nothing for the
// garbage collector to scan. A reset of the cache starts new states.
type states struct {
	orgs    refTable[orgState]
	members refTable[memberState]
	perms   refTable[permSet]
	extras  refTable[extra]

	// mu guards the maps, and the numbering and dropping of the tables'
	// values.
	mu sync.Mutex
	// orgIDs and memberKeys name the live state of an org and of a
	// member; a state killed by a change leaves them, and stays numbered
	// as long as an entry names it.
	orgIDs     map[string]uint32
	memberKeys map[string]uint32
	// interned are the sets of each kind with each role, held for the
	// states' life; custom are those narrowed by a token's permission
	// subset, by their joined form, held while an entry names them.
	interned map[internKey]uint32
	custom   map[string]uint32
}

type internKey struct {
	kind keyward.Kind
	role keyward.Role
}

func newStates() *states {
	return &states{
		orgIDs:     map[string]uint32{},
		memberKeys: map[string]uint32{},
		interned:   map[internKey]uint32{},
		custom:     map[string]uint32{},
	}
}

// held is what an entry's numbers stand for, and its text: what a verdict
// keeps beside its copy of the entry.
type held struct {
	org    *orgState
	member *memberState // nil for org credentials
	perms  *permSet
	extra  *extra // nil for most tokens
	text   string
}

// live reports whether nothing the entry depends on has been invalidated.
func (h *held) live() bool {
	return !h.org.dead.Load() && (h.member == nil || !h.member.dead.Load())
}

// resolve sets h's states to what e's numbers stand for. The caller
// holds the lock of a shard whose table holds e, and so a reference to
// each.
func (s *states) resolve(e *entry, h *held) {
	h.org = s.orgs.get(e.org)
	h.member = s.members.get(e.member)
	h.perms = s.perms.get(e.perms)
	h.extra = s.extras.get(e.extra)
}

// internLocked returns the number and the set of kind's permissions with
// role, shared by every entry that has no permission subset. The caller
// holds mu.
func (s *states) internLocked(model *keyward.PermissionModel, k keyward.Kind, r keyward.Role) (uint32, *permSet) {
	key := internKey{k, r}
	i, ok := s.interned[key]
	if !ok {
		i = s.perms.add(newPermSet(model.ForKind(k, r)))
		s.interned[key] = i
	}
	return i, s.perms.get(i)
}

// attachLocked numbers the states of a new entry, sharing those already
// numbered: e's numbers are set, and h's states swapped for the shared
// ones. It takes a reference to each for the entry; release gives them
// back. The caller holds mu.
func (s *states) attachLocked(e *entry, h *held) {
	e.org, h.org = shareLocked(&s.orgs, s.orgIDs, h.org.org.ID, h.org)
	if h.member != nil {
		e.member, h.member = shareLocked(&s.members, s.memberKeys, h.member.key, h.member)
	}
	if e.perms != 0 { // interned
		s.perms.hold(e.perms)
	} else {
		e.perms, h.perms = shareLocked(&s.perms, s.custom, h.perms.joined, h.perms)
	}
	if h.extra != nil {
		e.extra = s.extras.add(h.extra)
	}
}

// shareLocked returns the number and value of key in t, named by idx,
// with one more reference; when key has none, it numbers p for key. The
// caller holds the states' lock.
func shareLocked[T any](t *refTable[T], idx map[string]uint32, key string, p *T) (uint32, *T) {
	if i, ok := idx[key]; ok {
		t.hold(i)
		return i, t.get(i)
	}
	i := t.add(p)
	idx[key] = i
	return i, p
}

// release gives back the references an entry attached took. It takes mu
// only when one was the last, to drop the value. The caller may hold a
// shard's lock (never the other way round).
func (s *states) release(e *entry) {
	last := [4]bool{
		s.orgs.release(e.org),
		s.members.release(e.member),
		s.perms.release(e.perms),
		s.extras.release(e.extra),
	}
	if last == [4]bool{} {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if last[0] {
		if o := s.orgs.dropLocked(e.org); o != nil && s.orgIDs[o.org.ID] == e.org {
			delete(s.orgIDs, o.org.ID)
		}
	}
	if last[1] {
		if m := s.members.dropLocked(e.member); m != nil && s.memberKeys[m.key] == e.member {
			delete(s.memberKeys, m.key)
		}
	}
	if last[2] {
		if p := s.perms.dropLocked(e.perms); p != nil && s.custom[p.joined] == e.perms {
			delete(s.custom, p.joined)
		}
	}
	if last[3] {
		s.extras.dropLocked(e.extra)
	}
}

// killAllLocked marks every org and member state dead, for a reset: an
// entry copied before it is then a miss. The caller holds mu.
func (s *states) killAllLocked() {
	for _, i := range s.orgIDs {
		s.orgs.get(i).dead.Store(true)
	}
	for _, i := range s.memberKeys {
		s.members.get(i).dead.Store(true)
	}
}

// refTable numbers values of type T, from 1 (0 is none), and counts the
// references to each. A look-up takes no lock: whoever looks a number up
// holds a reference to it (a shard's lock, whose table holds an entry
// naming it), so the value stays numbered while it looks. Numbering and
// dropping happen under the states' lock. Its pages are a fixed array, so
// that a look-up is two loads; it numbers at most maxRefs values, more
// than the cache's bound on tokens (each entry names at most one value of
// a table) and the sets interned.
type refTable[T any] struct {
	pages [maxRefs >> refPageBits]atomic.Pointer[refPage[T]]
	next  uint32   // the highest number given; under the states' lock
	free  []uint32 // numbers dropped, to give again; under the states' lock
}

const (
	refPageBits = 10
	maxRefs     = 1 << 23
)

// refPage is a fixed array of slots, made when first needed and never
// moved.
type refPage[T any] [1 << refPageBits]refSlot[T]

type refSlot[T any] struct {
	p    atomic.Pointer[T]
	refs atomic.Int32
}

func (t *refTable[T]) slot(i uint32) *refSlot[T] {
	return &t.pages[(i>>refPageBits)&(maxRefs>>refPageBits-1)].Load()[i&(1<<refPageBits-1)]
}

// get returns the value numbered i; nil for 0.
func (t *refTable[T]) get(i uint32) *T {
	if i == 0 {
		return nil
	}
	return t.slot(i).p.Load()
}

// add numbers p, with one reference. The caller holds the states' lock.
func (t *refTable[T]) add(p *T) uint32 {
	var i uint32
	if n := len(t.free); n > 0 {
		i, t.free = t.free[n-1], t.free[:n-1]
	} else {
		if t.next == maxRefs-1 {
			panic("verify: more states than tokens the cache holds")
		}
		t.next++
		i = t.next
		if pg := &t.pages[i>>refPageBits]; pg.Load() == nil {
			pg.Store(new(refPage[T]))
		}
	}
	sl := t.slot(i)
	sl.refs.Store(1)
	sl.p.Store(p)
	return i
}

// hold takes one more reference to i, which the caller holds one of or
// has just found under the states' lock.
func (t *refTable[T]) hold(i uint32) { t.slot(i).refs.Add(1) }

// release gives back one reference to i (none for 0), and reports whether
// it was the last: then the caller drops it under the states' lock.
func (t *refTable[T]) release(i uint32) bool {
	return i != 0 && t.slot(i).refs.Add(-1) == 0
}

// dropLocked frees number i for another value if no reference to it is
// left (one may have been taken under the lock since the last was given
// back), and returns the value it stood for; nil if it stays. The caller
// holds the states' lock.
func (t *refTable[T]) dropLocked(i uint32) *T {
	sl := t.slot(i)
	p := sl.p.Load()
	if sl.refs.Load() != 0 || p == nil {
		return nil
	}
	sl.p.Store(nil)
	t.free = append(t.free, i)
	return p
}

// len returns how many values are numbered. The caller holds the states'
// lock.
func (t *refTable[T]) len() int { return int(t.next) - len(t.free) }
