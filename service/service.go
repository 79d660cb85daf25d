// Package service holds keyward's use cases: every rule about who may mint,
// see, change and use which credential. It combines the storage of a Store
// into transactions, writes the audit log and the change feed in the same
// transaction as each change, and is the one place the API, the CLI's
// operator commands, the dashboard and MCP go through.
package service

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service/feed"
	"github.com/keyward/keyward/service/usage"
	"github.com/keyward/keyward/verify"
)

// Options configure a Service.
type Options struct {
	// InstancePrefix names the installation in every token ("kw").
	InstancePrefix string
	// ProductPermissions are the guarded product's permissions.
	ProductPermissions []string
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// Logger receives operational messages; never a secret.
	Logger *slog.Logger
	// UsageFlushInterval is how often gathered last-used data is written;
	// 0 means DefaultUsageFlushInterval.
	UsageFlushInterval time.Duration
	// TokenRateLimit is the requests a token may make an hour unless it
	// has a limit of its own; an own limit above it needs apikeys:manage.
	// 0 leaves own limits unchecked.
	TokenRateLimit int
	// ChangeRetention is how long change-feed entries are kept; 0 means
	// DefaultChangeRetention, and less than MinChangeRetention is refused.
	// A node cut off from the database for longer empties its
	// verification cache when it comes back.
	ChangeRetention time.Duration
	// Sleep waits d or until ctx ends, returning ctx's error then: sign-in
	// slows down an account under attack with it. Nil waits on a timer;
	// tests may replace it.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service is keyward's use cases over one Store.
type Service struct {
	store  Store
	format *keyward.TokenFormat
	perms  *keyward.PermissionModel
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	log    *slog.Logger
	usage  *usage.Gatherer
	// rateLimit is Options.TokenRateLimit.
	rateLimit int
	// changeRetention is Options.ChangeRetention, or its default.
	changeRetention time.Duration
	// pruner prunes the change feed to changeRetention.
	pruner *feed.Pruner
	// cache answers Authenticate; update and Follow keep it true.
	cache *verify.Cache
	// denials gathers refused requests for the audit log.
	denials denials

	closeOnce sync.Once
}

// New returns a Service over store.
func New(store Store, opts Options) (*Service, error) {
	format, err := keyward.NewTokenFormat(opts.InstancePrefix)
	if err != nil {
		return nil, err
	}
	perms, err := keyward.NewPermissionModel(opts.ProductPermissions)
	if err != nil {
		return nil, err
	}
	s := &Service{store: store, format: format, perms: perms, now: opts.Now, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	s.sleep = opts.Sleep
	if s.sleep == nil {
		s.sleep = sleep
	}
	s.rateLimit = opts.TokenRateLimit
	switch s.changeRetention = opts.ChangeRetention; {
	case s.changeRetention == 0:
		s.changeRetention = DefaultChangeRetention
	case s.changeRetention < MinChangeRetention:
		return nil, keyward.Errorf(keyward.EINVALID, "change-feed retention %s is too short: want at least %s",
			keyward.FormatDuration(opts.ChangeRetention), keyward.FormatDuration(MinChangeRetention))
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.usage = usage.New(usageWriter{s}, usage.Options{Now: s.Now, Logger: s.log, FlushChunk: flushChunk})
	s.pruner = feed.NewPruner(changeStore{store}, s.changeRetention, s.Now, s.log)
	s.cache = verify.New(format, perms, storeReader{store}, verify.Options{})
	return s, nil
}

// DefaultUsageFlushInterval is how often the usage gathered in memory is
// written when Start is given no interval. A batch costs about two row
// writes per token used since the last, so a longer interval costs less
// CPU under steady use, but holds more tokens' pending use in memory;
// last-used times shown lag by at most this much.
const DefaultUsageFlushInterval = 5 * time.Second

// Start runs the background work until ctx ends: writing gathered usage
// every interval, refused requests every DenialFlushInterval, and pruning
// the change feed about every minute.
func (s *Service) Start(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultUsageFlushInterval
	}
	go s.usage.Run(ctx, interval)
	go s.pruner.Run(ctx)
	go s.runDenials(ctx)
}

// Close writes what usage and refusals are still gathered in memory.
func (s *Service) Close(ctx context.Context) error {
	var err error
	s.closeOnce.Do(func() { err = errors.Join(s.FlushUsage(ctx), s.FlushDenials(ctx)) })
	return err
}

// Format returns the token format of this installation.
func (s *Service) Format() *keyward.TokenFormat { return s.format }

// Permissions returns the permission model of this installation.
func (s *Service) Permissions() *keyward.PermissionModel { return s.perms }

// Ping checks that the store answers.
func (s *Service) Ping(ctx context.Context) error { return s.store.Ping(ctx) }

// Now returns the service's current time, truncated to microseconds as
// stored.
func (s *Service) Now() time.Time { return s.now().UTC().Truncate(time.Microsecond) }
