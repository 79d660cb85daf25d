// Package heap keeps the room the Go garbage collector leaves between
// collections near one size, whatever the live heap.
//
// The runtime's default (GOGC=100) lets the heap grow by as much as is live
// before it collects again. For keyward that is wrong at both ends: a small
// heap (a few thousand cached tokens) is collected dozens of times a
// second under load, each time for a few kilobytes of garbage per request,
// while a large one (a million cached tokens) would be allowed to double,
// to twice the memory the tokens need. Tune sets GOGC so that the next
// collection comes a fixed headroom after the live heap instead, and
// returns free memory the runtime keeps from the system when it is more
// than the headroom (the runtime's own scavenger gives it back only
// slowly, so a burst, such as filling the cache, would set the process's
// size for minutes).
package heap

import (
	"context"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Bounds of the percentage Tune sets: below MinPercent a large live heap
// would be collected too often for its size; above MaxPercent a tiny one
// would leave more garbage than the headroom asks for long after start.
const (
	MinPercent = 25
	MaxPercent = 1000
)

// Percent returns the GOGC value that puts the next collection headroom
// bytes after a live heap of live bytes, within [MinPercent, MaxPercent].
func Percent(live, headroom uint64) int {
	if live == 0 {
		return MaxPercent
	}
	p := math.Round(100 * float64(headroom) / float64(live))
	return int(min(max(p, MinPercent), MaxPercent))
}

// Metrics read: the heap the last collection found live, and the heap
// memory that is free yet still backed by the system's memory.
const (
	liveMetric = "/gc/heap/live:bytes"
	freeMetric = "/memory/classes/heap/free:bytes"
)

// releaseEvery is the least time between two returns of free memory: each
// is a full collection.
const releaseEvery = time.Minute

// ShouldRelease reports whether free bytes kept from the system are worth
// a full collection to return, since the last return: more than the
// headroom, and not within releaseEvery of the last.
func ShouldRelease(free, headroom uint64, since time.Duration) bool {
	return free > headroom && since >= releaseEvery
}

// Tune sets the collector's percentage from the live heap now, then again
// every interval (when it has moved by a tenth or more), and returns free
// memory to the system when ShouldRelease says so, until ctx ends.
// It returns at once; the tuning runs in its own goroutine.
func Tune(ctx context.Context, headroom uint64, every time.Duration) {
	sample := []metrics.Sample{{Name: liveMetric}, {Name: freeMetric}}
	last := -1
	released := time.Now()
	set := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 || sample[1].Value.Kind() != metrics.KindUint64 {
			return
		}
		p := Percent(sample[0].Value.Uint64(), headroom)
		if last < 0 || math.Abs(float64(p-last)) >= float64(last)/10 {
			debug.SetGCPercent(p)
			last = p
		}
		if ShouldRelease(sample[1].Value.Uint64(), headroom, time.Since(released)) {
			debug.FreeOSMemory()
			released = time.Now()
		}
	}
	set()
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				set()
			}
		}
	}()
}
