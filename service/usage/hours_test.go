package usage

import (
	"maps"
	"testing"
	"time"
)

// A pending use counts per hour, across hours, and back to an earlier one.
func TestPendingUseHours(t *testing.T) {
	h0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	h1, h2 := h0.Add(time.Hour), h0.Add(2*time.Hour)
	var p pendingUse
	for _, h := range []time.Time{h0, h0, h1, h0, h2, h2, h1} {
		p.addUses(h, 1)
	}
	p.addUses(h0, 5) // a failed flush's count given back
	want := map[time.Time]int{h0: 8, h1: 2, h2: 2}
	if got := p.hours(); !maps.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got := (&pendingUse{}).hours(); len(got) != 0 {
		t.Errorf("no use: got %v, want none", got)
	}
}
