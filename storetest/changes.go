package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testChanges(t *testing.T, s service.Store) {
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		last, err := tx.LastChangeSeq(ctx)
		noErr(t, "LastChangeSeq", err)
		if last != 0 {
			t.Errorf("LastChangeSeq of an empty feed: got %d, want 0", last)
		}
		return nil
	})
	var changes []*keyward.Change
	for i := range 10 {
		c := &keyward.Change{Time: at(i), Kind: keyward.ChangeToken, OrgID: "org_a", TokenID: name("tok_", i), UserID: "usr_1"}
		switch i % 3 {
		case 1:
			c.Kind, c.TokenID = keyward.ChangeMember, ""
		case 2:
			h := randomHash()
			c.Hash = h[:]
		}
		changes = append(changes, c)
	}
	// Two transactions, so sequence numbers run on across commits.
	for _, batch := range [][]*keyward.Change{changes[:4], changes[4:]} {
		update(t, s, func(ctx context.Context, tx service.Tx) error {
			for _, c := range batch {
				if err := tx.AppendChange(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	for i := 1; i < len(changes); i++ {
		if changes[i].Seq <= changes[i-1].Seq {
			t.Errorf("AppendChange: entry %d got seq %d after %d, want increasing", i, changes[i].Seq, changes[i-1].Seq)
		}
	}
	want := func(c *keyward.Change) *keyward.Change {
		w := *c
		w.Time = stored(c.Time)
		return &w
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		all, err := tx.FindChanges(ctx, 0, 0)
		noErr(t, "FindChanges", err)
		if len(all) != len(changes) {
			t.Fatalf("FindChanges(0, 0): got %d entries, want %d", len(all), len(changes))
		}
		for i := range all {
			sameFields(t, "FindChanges", all[i], want(changes[i]))
		}
		page, err := tx.FindChanges(ctx, changes[2].Seq, 4)
		noErr(t, "FindChanges", err)
		if len(page) != 4 || page[0].Seq != changes[3].Seq || page[3].Seq != changes[6].Seq {
			t.Errorf("FindChanges(after the third, 4): got %d entries from seq %v, want 4 from %d", len(page), seqs(page), changes[3].Seq)
		}
		rest, err := tx.FindChanges(ctx, changes[9].Seq, 10)
		noErr(t, "FindChanges", err)
		if len(rest) != 0 {
			t.Errorf("FindChanges(after the last): got %v, want none", seqs(rest))
		}
		last, err := tx.LastChangeSeq(ctx)
		noErr(t, "LastChangeSeq", err)
		if last != changes[9].Seq {
			t.Errorf("LastChangeSeq: got %d, want %d", last, changes[9].Seq)
		}
		return nil
	})
}

func seqs(cs []*keyward.Change) []int64 {
	out := make([]int64, len(cs))
	for i, c := range cs {
		out[i] = c.Seq
	}
	return out
}

// testPruneChanges checks that pruning deletes only a run of the oldest
// entries older than its time, in batches, and records the highest
// sequence number it deleted.
func testPruneChanges(t *testing.T, s service.Store) {
	pruned := func() int64 {
		t.Helper()
		var seq int64
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			var err error
			seq, err = tx.PrunedChangeSeq(ctx)
			return err
		})
		return seq
	}
	prune := func(before time.Time, limit int) int64 {
		t.Helper()
		var n int64
		update(t, s, func(ctx context.Context, tx service.Tx) error {
			var err error
			n, err = tx.PruneChanges(ctx, before, limit)
			return err
		})
		return n
	}
	remaining := func() []int64 {
		t.Helper()
		var all []*keyward.Change
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			var err error
			all, err = tx.FindChanges(ctx, 0, 0)
			return err
		})
		return seqs(all)
	}
	last := func() int64 {
		t.Helper()
		var seq int64
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			var err error
			seq, err = tx.LastChangeSeq(ctx)
			return err
		})
		return seq
	}
	appendAt := func(sec int) *keyward.Change {
		t.Helper()
		c := &keyward.Change{Time: at(sec), Kind: keyward.ChangePolicy, OrgID: "org_a"}
		update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.AppendChange(ctx, c) })
		return c
	}

	if got := pruned(); got != 0 {
		t.Errorf("PrunedChangeSeq of a new feed: got %d, want 0", got)
	}
	if n := prune(at(1000), 100); n != 0 {
		t.Errorf("PruneChanges of an empty feed: got %d deleted, want 0", n)
	}

	// The fourth entry comes from a node whose clock runs ahead: it holds
	// back the pruning of the fifth, older by its time, so that what is
	// left is always a run of the newest entries. A rolled-back append
	// may leave a gap in the sequence numbers.
	var cs []*keyward.Change
	for i, sec := range []int{0, 1, 2, 50, 3, 60} {
		if i == 2 {
			err := tryUpdate(t, s, func(ctx context.Context, tx service.Tx) error {
				if err := tx.AppendChange(ctx, &keyward.Change{Time: at(1), Kind: keyward.ChangePolicy, OrgID: "org_a"}); err != nil {
					return err
				}
				return errors.New("rolled back")
			})
			if err == nil {
				t.Fatal("Update that fails: got no error")
			}
		}
		cs = append(cs, appendAt(sec))
	}

	if n := prune(at(10), 1); n != 1 {
		t.Errorf("PruneChanges(limit 1): got %d deleted, want 1", n)
	}
	if got := pruned(); got != cs[0].Seq {
		t.Errorf("PrunedChangeSeq after one: got %d, want %d", got, cs[0].Seq)
	}
	if n := prune(at(10), 100); n != 2 {
		t.Errorf("PruneChanges: got %d deleted, want 2 (up to the entry from the clock ahead)", n)
	}
	if got := pruned(); got != cs[2].Seq {
		t.Errorf("PrunedChangeSeq: got %d, want %d", got, cs[2].Seq)
	}
	if got, want := remaining(), seqs(cs[3:]); !slices.Equal(got, want) {
		t.Errorf("entries left: got %v, want %v", got, want)
	}
	if n := prune(at(10), 100); n != 0 {
		t.Errorf("PruneChanges again: got %d deleted, want 0", n)
	}
	if n := prune(at(1000), 0); n != 0 {
		t.Errorf("PruneChanges(limit 0): got %d deleted, want 0", n)
	}
	if got := pruned(); got != cs[2].Seq {
		t.Errorf("PrunedChangeSeq after pruning nothing: got %d, want still %d", got, cs[2].Seq)
	}

	// Pruning everything keeps the newest sequence number known.
	if n := prune(at(1000), 100); n != 3 {
		t.Errorf("PruneChanges of the rest: got %d deleted, want 3", n)
	}
	if got := remaining(); len(got) != 0 {
		t.Errorf("entries left after pruning all: got %v, want none", got)
	}
	if got := pruned(); got != cs[5].Seq {
		t.Errorf("PrunedChangeSeq after pruning all: got %d, want %d", got, cs[5].Seq)
	}
	if got := last(); got != cs[5].Seq {
		t.Errorf("LastChangeSeq after pruning all: got %d, want the last pruned, %d", got, cs[5].Seq)
	}
	next := appendAt(70)
	if next.Seq <= cs[5].Seq {
		t.Errorf("AppendChange after pruning all: got seq %d, want more than %d", next.Seq, cs[5].Seq)
	}
	if got := last(); got != next.Seq {
		t.Errorf("LastChangeSeq: got %d, want %d", got, next.Seq)
	}
	if n := prune(at(10), 100); n != 0 {
		t.Errorf("PruneChanges of a newer entry: got %d deleted, want 0", n)
	}
	if got := pruned(); got != cs[5].Seq {
		t.Errorf("PrunedChangeSeq: got %d, want still %d", got, cs[5].Seq)
	}
}
