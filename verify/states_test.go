package verify

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/keyward/keyward"
)

// loaderFunc is a Loader of a function.
type loaderFunc func(h keyward.Hash) *Record

func (f loaderFunc) LoadToken(_ context.Context, h keyward.Hash) (*Record, error) { return f(h), nil }

// A state stays numbered while an entry names it, and no longer: tokens
// of three orgs and ten owners, some with a permission subset or an
// allowlist, are cached, killed, read again and evicted; at every step
// each table holds exactly the states the cached entries name, with as
// many references as entries name them, and every verdict reads its own
// org, owner and text.
func TestStatesFollowEntries(t *testing.T) {
	format, _ := keyward.NewTokenFormat("kw")
	perms, _ := keyward.NewPermissionModel(nil)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	secrets := make([]string, 300)
	owner := map[keyward.Hash]int{}
	for i := range secrets {
		secrets[i] = format.New(keyward.KindPAT)
		owner[keyward.HashToken(secrets[i])] = i
	}
	seq := int64(0)
	load := loaderFunc(func(h keyward.Hash) *Record {
		i := owner[h]
		org := &keyward.Org{ID: fmt.Sprintf("org_%d", i%3)}
		u := &keyward.User{ID: fmt.Sprintf("usr_%d", i%10)}
		tok := &keyward.Token{
			ID: fmt.Sprintf("tok_%d", i), Kind: keyward.KindPAT, OrgID: org.ID, UserID: u.ID, CreatedBy: u.ID,
			Name: fmt.Sprintf("token %d", i), Hash: h, CreatedAt: now.Add(-time.Hour),
		}
		tok.FamilyID = tok.ID
		if i%4 == 0 {
			tok.Permissions = keyward.Permissions{"tokens:read"}
		}
		if i%5 == 0 {
			tok.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}
		return &Record{Seq: seq, Token: tok, Org: org, User: u,
			Membership: &keyward.Membership{OrgID: org.ID, UserID: u.ID, Role: keyward.RoleMember}}
	})
	c := New(format, perms, load, Options{MaxEntries: 256})
	ctx := context.Background()
	verifyAll := func(step string) {
		t.Helper()
		for i, s := range secrets {
			v, err := c.Verify(ctx, s, netip.MustParseAddr("10.1.2.3"), now)
			if err != nil || v.Code != Valid {
				t.Fatalf("%s: token %d: got %v, %v", step, i, v.Code, err)
			}
			if v.OrgID() != fmt.Sprintf("org_%d", i%3) || v.UserID() != fmt.Sprintf("usr_%d", i%10) ||
				v.TokenID() != fmt.Sprintf("tok_%d", i) || v.Token().Name != fmt.Sprintf("token %d", i) {
				t.Fatalf("%s: token %d read as %s of %s in %s, named %q", step, i, v.TokenID(), v.UserID(), v.OrgID(), v.Token().Name)
			}
			if (i%5 == 0) != (len(v.AllowedCIDRs()) == 1) {
				t.Fatalf("%s: token %d: allowlist %v", step, i, v.AllowedCIDRs())
			}
		}
		checkStates(t, c, step)
	}
	// 300 tokens in 256 places: filling evicts, and so drops states.
	verifyAll("filled")
	seq = 10
	c.Apply(&keyward.Change{Seq: 10, Kind: keyward.ChangeMember, OrgID: "org_1", UserID: "usr_4"})
	c.Apply(&keyward.Change{Seq: 11, Kind: keyward.ChangePolicy, OrgID: "org_2"})
	seq = 11
	verifyAll("after kills")
	for _, s := range secrets[:150] {
		h := keyward.HashToken(s)
		seq++
		c.Apply(&keyward.Change{Seq: seq, Kind: keyward.ChangeToken, Hash: h[:]})
	}
	checkStates(t, c, "after evictions")
	verifyAll("read again")
	for _, s := range secrets {
		h := keyward.HashToken(s)
		seq++
		c.Apply(&keyward.Change{Seq: seq, Kind: keyward.ChangeToken, Hash: h[:]})
	}
	checkStates(t, c, "emptied")
	st := c.states.Load()
	st.mu.Lock()
	defer st.mu.Unlock()
	if n := st.orgs.len() + st.members.len() + st.extras.len() + len(st.custom); n != 0 || st.perms.len() != len(st.interned) {
		t.Fatalf("emptied: %d orgs, %d members, %d extras, %d custom permission sets left; %d sets for %d interned",
			st.orgs.len(), st.members.len(), st.extras.len(), len(st.custom), st.perms.len(), len(st.interned))
	}
}

// checkStates counts the references the cached entries hold, and holds
// each table to them: every numbered state is named by an entry (or
// interned), with as many references as entries name it.
func checkStates(t *testing.T, c *Cache, step string) {
	t.Helper()
	st := c.states.Load()
	counts := [4]map[uint32]int32{{}, {}, {}, {}}
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		for _, sl := range sh.tokens.slots {
			if sl.tag != 0 {
				e := &sh.tokens.recs[sl.idx]
				for j, n := range [4]uint32{e.org, e.member, e.perms, e.extra} {
					if n != 0 {
						counts[j][n]++
					}
				}
			}
		}
		sh.mu.RUnlock()
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	interned := map[uint32]bool{}
	for _, i := range st.interned {
		interned[i] = true
	}
	check := func(name string, n int, refs func(uint32) (int32, bool), want map[uint32]int32, extra map[uint32]bool) {
		held := 0
		for i := uint32(1); int(i) <= n; i++ {
			r, ok := refs(i)
			if !ok {
				continue
			}
			held++
			w := want[i]
			if extra[i] {
				w++
			}
			if r != w {
				t.Fatalf("%s: %s %d has %d references, want %d", step, name, i, r, w)
			}
		}
		if held != len(want)+len(extra)-overlap(want, extra) {
			t.Fatalf("%s: %d %s numbered, want %d", step, held, name, len(want)+len(extra)-overlap(want, extra))
		}
	}
	check("orgs", int(st.orgs.next), slotOf(&st.orgs), counts[0], nil)
	check("members", int(st.members.next), slotOf(&st.members), counts[1], nil)
	check("permission sets", int(st.perms.next), slotOf(&st.perms), counts[2], interned)
	check("extras", int(st.extras.next), slotOf(&st.extras), counts[3], nil)
}

func slotOf[T any](t *refTable[T]) func(uint32) (int32, bool) {
	return func(i uint32) (int32, bool) {
		sl := t.slot(i)
		return sl.refs.Load(), sl.p.Load() != nil
	}
}

func overlap(a map[uint32]int32, b map[uint32]bool) int {
	n := 0
	for i := range b {
		if _, ok := a[i]; ok {
			n++
		}
	}
	return n
}
