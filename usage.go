package keyward

import "time"

// UsageCount is how many times a token was used in one hour.
type UsageCount struct {
	TokenID string
	// Hour is the start of the hour, in UTC.
	Hour  time.Time
	Count int
}

// HourOf returns the start of t's hour in UTC.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }

// DailyUsage sums hourly counts into the UsageDays days that end with
// today's (UTC) day, oldest first; counts outside that window are left out.
func DailyUsage(counts []UsageCount, today time.Time) []int {
	days := make([]int, UsageDays)
	last := today.UTC().Truncate(24 * time.Hour)
	first := last.AddDate(0, 0, -(UsageDays - 1))
	for _, c := range counts {
		h := c.Hour.UTC()
		if h.Before(first) || !h.Before(last.Add(24*time.Hour)) {
			continue
		}
		days[int(h.Sub(first)/(24*time.Hour))] += c.Count
	}
	return days
}

// UsageWindowStart is the first hour that DailyUsage counts for today.
func UsageWindowStart(today time.Time) time.Time {
	return today.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(UsageDays - 1))
}
