package feed

import (
	"context"
	"errors"
	"testing"
	"time"
)

// fakeStore holds entries as their write times, oldest first.
type fakeStore struct {
	entries []time.Time
	calls   int
	fail    error
}

func (f *fakeStore) PruneChanges(_ context.Context, before time.Time, limit int) (int64, error) {
	f.calls++
	if f.fail != nil {
		return 0, f.fail
	}
	n := 0
	for n < len(f.entries) && n < limit && f.entries[n].Before(before) {
		n++
	}
	f.entries = f.entries[n:]
	return int64(n), nil
}

// Prune deletes every entry older than the retention, a batch a call, and
// keeps the newer ones.
func TestPrune(t *testing.T) {
	now := time.Date(2026, 12, 8, 12, 0, 0, 0, time.UTC)
	f := &fakeStore{}
	for i := range 2*pruneBatch + 10 {
		f.entries = append(f.entries, now.Add(-48*time.Hour+time.Duration(i)*time.Millisecond))
	}
	f.entries = append(f.entries, now.Add(-time.Hour))
	p := NewPruner(f, 24*time.Hour, func() time.Time { return now }, nil)
	n, err := p.Prune(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 2*pruneBatch+10 || len(f.entries) != 1 || f.calls != 3 {
		t.Errorf("got %d deleted in %d calls, %d left; want %d in 3, 1 left", n, f.calls, len(f.entries), 2*pruneBatch+10)
	}
	if n, err := p.Prune(context.Background()); n != 0 || err != nil {
		t.Errorf("again: got %d, %v; want 0, nil", n, err)
	}
	f.fail = errors.New("down")
	if _, err := p.Prune(context.Background()); !errors.Is(err, f.fail) {
		t.Errorf("a failing store: got %v, want its error", err)
	}
}
