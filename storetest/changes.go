package storetest

import (
	"context"
	"testing"

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
