package heap

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		live, headroom uint64
		want           int
	}{
		{0, 64 * mib, MaxPercent},
		{1 * mib, 64 * mib, MaxPercent},    // 6400% is capped
		{16 * mib, 64 * mib, 400},          // collect at 80 MiB
		{64 * mib, 64 * mib, 100},          // the runtime's default
		{256 * mib, 64 * mib, MinPercent},  // 25%: collect at 320 MiB
		{200 * mib, 64 * mib, 32},          // collect at 264 MiB
		{4096 * mib, 64 * mib, MinPercent}, // floored
		{100 * mib, 0, MinPercent},         // no headroom asked: the floor
		{10 * mib, 100 * mib, MaxPercent},  // exactly the cap
		{3 * mib, 2 * mib, 67},             // rounded
	}
	for _, tt := range tests {
		if got := Percent(tt.live, tt.headroom); got != tt.want {
			t.Errorf("Percent(%d MiB, %d MiB) = %d, want %d", tt.live/mib, tt.headroom/mib, got, tt.want)
		}
	}
}

// Tune changes the runtime's setting, and leaves it alone once ctx ends.
func TestTune(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	ctx, cancel := context.WithCancel(context.Background())
	// A headroom far beyond this test's heap: the cap.
	Tune(ctx, 1<<40, time.Hour)
	cancel()
	if got := debug.SetGCPercent(100); got != MaxPercent {
		t.Errorf("after Tune: GOGC %d, want %d", got, MaxPercent)
	}
}

func TestShouldRelease(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		free  uint64
		since time.Duration
		want  bool
	}{
		{100 * mib, 2 * time.Minute, true},
		{100 * mib, 30 * time.Second, false}, // too soon after the last
		{64 * mib, time.Hour, false},         // not more than the headroom
		{0, time.Hour, false},
	}
	for _, tt := range tests {
		if got := ShouldRelease(tt.free, 64*mib, tt.since); got != tt.want {
			t.Errorf("ShouldRelease(%d MiB, since %s) = %v, want %v", tt.free/mib, tt.since, got, tt.want)
		}
	}
}
