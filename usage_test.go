package keyward_test

import (
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
)

func TestDailyUsage(t *testing.T) {
	today := time.Date(2026, 11, 30, 15, 4, 0, 0, time.UTC)
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	counts := []keyward.UsageCount{
		{Hour: day(30, 0), Count: 2},
		{Hour: day(30, 14), Count: 3},
		{Hour: day(1, 0), Count: 7},                                        // the first day of the window
		{Hour: day(31, 0), Count: 9},                                       // tomorrow (Dec 1): left out
		{Hour: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), Count: 100}, // before the window
		{Hour: day(15, 23), Count: 1},
	}
	got := keyward.DailyUsage(counts, today)
	want := make([]int, keyward.UsageDays)
	want[0], want[14], want[29] = 7, 1, 5
	if !slices.Equal(got, want) {
		t.Errorf("DailyUsage: got %v, want %v", got, want)
	}
	if got, want := keyward.UsageWindowStart(today), day(1, 0); !got.Equal(want) {
		t.Errorf("UsageWindowStart: got %v, want %v", got, want)
	}
	if got := keyward.DailyUsage(nil, today); len(got) != keyward.UsageDays {
		t.Errorf("DailyUsage(nil): got %d days, want %d", len(got), keyward.UsageDays)
	}
}
