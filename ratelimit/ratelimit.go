// Package ratelimit counts requests against budgets such as "1000 requests
// an hour for this token", with the generic cell rate algorithm (GCRA): a
// key may spend its whole budget at once, and it comes back smoothly, one
// request every window/limit, so there is no window edge at which a client
// can spend twice its budget. A key's whole state is one time, the
// theoretical arrival time (TAT) of its next request, which is the time at
// which the full budget is back; past that time a key is the same as one
// never seen, so idle keys are dropped without losing anything.
//
// Memory keeps the state of one process; the package redislimit shares
// it between nodes through one Redis, with one round trip per check, and
// falls back to a Memory while Redis cannot be reached.
package ratelimit

import (
	"errors"
	"fmt"
	"time"
)

// Result is the outcome of one check, with what the rate limit headers
// of an answer report.
type Result struct {
	// Allowed reports whether the request may proceed; it was counted
	// only if so.
	Allowed bool
	// Limit is the budget of the window.
	Limit int
	// Remaining is how many more requests the key may make now.
	Remaining int
	// Reset is when the key has its whole budget back.
	Reset time.Time
	// RetryAfter is how long a refused key must wait for its next request;
	// 0 when Allowed.
	RetryAfter time.Duration
}

// ErrInvalidLimit is returned for a limit or window that is not positive:
// a caller with no limit must not ask.
var ErrInvalidLimit = errors.New("ratelimit: limit and window must be positive")

// Cell is the GCRA arithmetic of one budget, in one integer unit of time
// (nanoseconds for Memory, microseconds for the Redis limiter, which runs
// Take's arithmetic in a script and Result's here).
type Cell struct {
	// Interval is the time one request costs: window/limit, at least 1.
	Interval int64
	// Burst is Interval*limit: a key may run that far ahead of now, so
	// exactly limit requests fit in an idle key.
	Burst int64
}

// NewCell checks limit and window and returns the arithmetic of a budget
// of limit requests per window in units of unit.
func NewCell(limit int, window, unit time.Duration) (Cell, error) {
	if limit <= 0 || window <= 0 {
		return Cell{}, fmt.Errorf("%w: got limit %d, window %s", ErrInvalidLimit, limit, window)
	}
	interval := int64(window/unit) / int64(limit)
	if interval < 1 {
		interval = 1
	}
	return Cell{Interval: interval, Burst: interval * int64(limit)}, nil
}

// Take applies one request at now to a key whose TAT is tat (0, or any
// time not after now, for a key with its whole budget). It returns the
// TAT to keep (tat unchanged when the request is refused) and whether the
// request is allowed.
func (c Cell) Take(now, tat int64) (int64, bool) {
	if tat < now {
		tat = now
	}
	next := tat + c.Interval
	if next-now > c.Burst {
		return tat, false
	}
	return next, true
}

// Result describes the state after take returned tat and allowed at now,
// all in unit.
func (c Cell) Result(limit int, now, tat int64, allowed bool, unit time.Duration) Result {
	r := Result{Allowed: allowed, Limit: limit, Reset: unixTime(tat, unit)}
	if !allowed {
		// The next request fits once tat+interval-now is within burst.
		r.RetryAfter = time.Duration(tat+c.Interval-c.Burst-now) * unit
		return r
	}
	r.Remaining = int((c.Burst - (tat - now)) / c.Interval)
	r.Remaining = min(max(r.Remaining, 0), limit)
	return r
}

// unixTime converts a count of units since the Unix epoch.
func unixTime(v int64, unit time.Duration) time.Time {
	switch unit {
	case time.Nanosecond:
		return time.Unix(0, v)
	case time.Microsecond:
		return time.UnixMicro(v)
	}
	return time.Unix(0, v*int64(unit))
}
