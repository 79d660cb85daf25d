package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/ratelimit"
	"github.com/keyward/keyward/ratelimit/redislimit"
)

// rateFlags are serve's rate limit settings.
type rateFlags struct {
	token, ip   int
	nodes       int
	redisURL    string
	redisPrefix string
	// envErr is a malformed KEYWARD_RATE_LIMIT_* variable, reported when
	// serve runs.
	envErr error
}

// add declares the flags on cmd, with defaults from the environment.
func (f *rateFlags) add(a *app, cmd *cobra.Command) {
	token := f.envInt(a.getenv, "KEYWARD_RATE_LIMIT_TOKEN", httplimit.DefaultToken)
	ip := f.envInt(a.getenv, "KEYWARD_RATE_LIMIT_IP", httplimit.DefaultIP)
	nodes := f.envInt(a.getenv, "KEYWARD_RATE_LIMIT_NODES", defaultNodes)
	fl := cmd.Flags()
	fl.IntVar(&f.token, "rate-limit-token", token, "requests a token may make an hour, unless it has its own limit; 0 for none ($KEYWARD_RATE_LIMIT_TOKEN)")
	fl.IntVar(&f.ip, "rate-limit-ip", ip, "requests a client address may make an hour without a valid token, and, on budgets of their own, to each OAuth endpoint and with a refused credential to /mcp; 0 for none ($KEYWARD_RATE_LIMIT_IP)")
	fl.StringVar(&f.redisURL, "redis-url", a.getenv("KEYWARD_REDIS_URL"), "Redis that nodes share rate limit counts through, redis://host:6379/0; without it each node counts alone ($KEYWARD_REDIS_URL)")
	fl.IntVar(&f.nodes, "rate-limit-nodes", nodes, "nodes expected to share the budgets through --redis-url: while Redis is down each node admits 1/N of a budget (rounded up), so an outage cannot multiply a limit by the nodes; at least 1, and nothing without --redis-url ($KEYWARD_RATE_LIMIT_NODES)")
	fl.StringVar(&f.redisPrefix, "redis-prefix", envOr(a.getenv, "KEYWARD_REDIS_PREFIX", redislimit.DefaultPrefix), "start of every Redis key keyward writes ($KEYWARD_REDIS_PREFIX)")
}

// defaultNodes is --rate-limit-nodes when it is not given: Redis is there
// for more than one node, and 2, the fewest, keeps an outage of Redis
// within the limit for two nodes and within half again of it (3·⌈L/2⌉)
// for three, where each node counting alone would admit 3·L. An operator
// with more nodes says how many; one who says too many only makes each
// node stricter while Redis is down.
const defaultNodes = 2

// envInt reads a whole number from the environment, def when unset, and
// remembers a malformed one for open.
func (f *rateFlags) envInt(getenv func(string) string, name string, def int) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil && f.envErr == nil {
		what := "a whole number of requests an hour"
		if name == "KEYWARD_RATE_LIMIT_NODES" {
			what = "a whole number of nodes, at least 1"
		}
		f.envErr = usageError{fmt.Errorf("%s=%q: want %s", name, v, what)}
	}
	return n
}

// open returns the API's rate limit options: a limiter over Redis when
// --redis-url is given, in memory otherwise, and the function that
// releases it. A Redis that does not answer at start is a warning, not a
// failure: the limiter counts on this node until Redis answers.
func (f *rateFlags) open(ctx context.Context, log *slog.Logger) (httplimit.Options, func(), error) {
	opts := httplimit.Options{Token: f.token, IP: f.ip}
	switch {
	case f.envErr != nil:
		return opts, nil, f.envErr
	case f.token < 0:
		return opts, nil, usageError{fmt.Errorf("--rate-limit-token %d: want 0 (no limit) or more", f.token)}
	case f.ip < 0:
		return opts, nil, usageError{fmt.Errorf("--rate-limit-ip %d: want 0 (no limit) or more", f.ip)}
	case f.nodes < 1:
		return opts, nil, usageError{fmt.Errorf("--rate-limit-nodes %d: want 1 or more nodes", f.nodes)}
	case f.redisURL == "":
		opts.Limiter = ratelimit.NewMemory(ratelimit.MemoryOptions{})
		log.Info("rate limits counted on this node", "token", f.token, "ip", f.ip)
		return opts, func() {}, nil
	}
	r, err := redislimit.Open(f.redisURL, redislimit.Options{Prefix: f.redisPrefix, Logger: log, Nodes: f.nodes})
	if err != nil {
		return opts, nil, usageError{fmt.Errorf("--redis-url: %w", err)}
	}
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := r.Ping(pctx); err != nil {
		log.Warn("Redis does not answer; rate limits are counted on this node until it does", "redis", redactURL(f.redisURL), "err", err)
	} else {
		log.Info("rate limits shared through Redis", "redis", redactURL(f.redisURL), "prefix", f.redisPrefix, "token", f.token, "ip", f.ip, "nodes", f.nodes)
	}
	opts.Limiter = r
	return opts, func() { _ = r.Close() }, nil
}
