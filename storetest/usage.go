package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func testTokenUsage(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	a, b := newToken("org_a", "usr_1", t0), newToken("org_a", "usr_1", t0)
	createTokens(t, s, a, b)
	hour := func(n int) time.Time { return keyward.HourOf(t0).Add(time.Duration(n) * time.Hour) }
	add := func(counts ...keyward.UsageCount) {
		t.Helper()
		update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.AddTokenUsage(ctx, counts) })
	}
	find := func(since time.Time, ids ...string) []keyward.UsageCount {
		t.Helper()
		var got []keyward.UsageCount
		view(t, s, func(ctx context.Context, tx service.Tx) (err error) {
			got, err = tx.FindTokenUsage(ctx, ids, since)
			return err
		})
		return got
	}
	same := func(what string, got, want []keyward.UsageCount) {
		t.Helper()
		eq := func(x, y keyward.UsageCount) bool {
			return x.TokenID == y.TokenID && x.Hour.Equal(y.Hour) && x.Count == y.Count
		}
		if !slices.EqualFunc(got, want, eq) {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}

	add()
	same("nothing added", find(hour(-100), a.ID, b.ID), nil)
	if got := find(hour(-100)); got == nil || len(got) != 0 {
		t.Errorf("no ids: got %v, want an empty list", got)
	}
	// Times within an hour count for its start; counts add up, also within
	// one batch.
	add(
		keyward.UsageCount{TokenID: a.ID, Hour: hour(0).Add(59 * time.Minute), Count: 2},
		keyward.UsageCount{TokenID: b.ID, Hour: hour(1), Count: 1},
		keyward.UsageCount{TokenID: a.ID, Hour: hour(0), Count: 3},
		keyward.UsageCount{TokenID: a.ID, Hour: hour(-48), Count: 4},
	)
	add(keyward.UsageCount{TokenID: a.ID, Hour: hour(0), Count: 10}, keyward.UsageCount{TokenID: "tok_gone", Hour: hour(0), Count: 1})
	want := []keyward.UsageCount{
		{TokenID: a.ID, Hour: hour(-48), Count: 4},
		{TokenID: a.ID, Hour: hour(0), Count: 15},
	}
	same("token a", find(hour(-100), a.ID), want)
	same("token a since hour -1", find(hour(-1), a.ID), want[1:])
	wantB := []keyward.UsageCount{{TokenID: b.ID, Hour: hour(1), Count: 1}}
	got := find(hour(-100), b.ID, a.ID)
	if len(got) != 3 {
		t.Fatalf("two tokens: got %v, want 3 counts", got)
	}
	same("both tokens, b's part", slices.DeleteFunc(slices.Clone(got), func(c keyward.UsageCount) bool { return c.TokenID != b.ID }), wantB)

	// A batch larger than one statement carries.
	var many []keyward.UsageCount
	for i := range 1200 {
		many = append(many, keyward.UsageCount{TokenID: fmt.Sprintf("aaa_%04d", i), Hour: hour(0), Count: 1})
	}
	add(append(many, keyward.UsageCount{TokenID: a.ID, Hour: hour(0), Count: 5})...)
	want[1].Count += 5
	same("token a after a large batch", find(hour(-100), a.ID), want)
	if got := find(hour(-100), "aaa_0000", "aaa_1199"); len(got) != 2 || got[0].Count != 1 || got[1].Count != 1 {
		t.Errorf("counts of the large batch's first and last ids: got %v, want one use each", got)
	}

	// Pruning drops old hours only.
	var n int64
	update(t, s, func(ctx context.Context, tx service.Tx) (err error) {
		n, err = tx.PruneTokenUsage(ctx, hour(-1))
		return err
	})
	if n != 1 {
		t.Errorf("PruneTokenUsage: got %d deleted, want 1", n)
	}
	same("token a after pruning", find(hour(-100), a.ID), want[1:])

	// Deleting a token deletes its counts.
	update(t, s, func(ctx context.Context, tx service.Tx) error { return tx.DeleteToken(ctx, a.ID) })
	same("deleted token", find(hour(-100), a.ID), nil)
	same("token b untouched", find(hour(-100), b.ID), wantB)
}
