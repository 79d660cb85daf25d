package main

import (
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/metrics"
	"github.com/keyward/keyward/ratelimit/redislimit"
	"github.com/keyward/keyward/service"
)

// addServiceMetrics adds to reg what the verification cache, the change
// feed, the usage writer and a shared rate limiter count. Each is read at scrape time.
func addServiceMetrics(reg *metrics.Metrics, svc *service.Service, limits httplimit.Options) error {
	type metric struct {
		name, help string
		fn         func() float64
	}
	stat := svc.VerifyStats
	counters := []metric{
		{"verify_cache_hits_total", "Verifications answered from a cached token.", func() float64 { return float64(stat().Hits) }},
		{"verify_cache_misses_total", "Verifications that read the database.", func() float64 { return float64(stat().Misses) }},
		{"verify_cache_negative_hits_total", "Verifications of a string remembered as no token.", func() float64 { return float64(stat().NegativeHits) }},
		{"change_feed_pruned_resets_total", "Times this node found change-feed entries it had not applied pruned, and emptied its verification cache.", func() float64 { return float64(stat().PrunedResets) }},
	}
	if r, ok := limits.Limiter.(*redislimit.Limiter); ok {
		counters = append(counters, metric{"rate_limit_redis_failures_total", "Rate limit checks that Redis failed, counted on this node instead.", func() float64 { return float64(r.Failures()) }})
	}
	for _, c := range counters {
		if err := reg.CounterFunc(c.name, c.help, c.fn); err != nil {
			return err
		}
	}
	gauges := []metric{
		{"verify_cache_entries", "Tokens held by the verification cache.", func() float64 { return float64(stat().Entries) }},
		{"verify_cache_missing", "Strings remembered as no token.", func() float64 { return float64(stat().Missing) }},
		{"change_feed_applied_seq", "Sequence number of the newest change-feed entry this node applied.", func() float64 { return float64(stat().LastSeq) }},
		{"change_feed_lag_seconds", "How long after it was written this node applied the newest change-feed entry it applied.", func() float64 { return stat().LastLag.Seconds() }},
		{"change_feed_age_seconds", "How long ago this node last read the change feed to its end.", func() float64 { return stat().FeedAge.Seconds() }},
		{"change_feed_stale", "1 while this node has not read the change feed to its end for longer than --max-staleness, else 0.", func() float64 {
			if stat().Stale {
				return 1
			}
			return 0
		}},
		{"usage_unwritten_tokens", "Tokens whose use this node has gathered and not yet written.", func() float64 { return float64(svc.UnwrittenUsage()) }},
	}
	for _, g := range gauges {
		if err := reg.GaugeFunc(g.name, g.help, g.fn); err != nil {
			return err
		}
	}
	return nil
}
