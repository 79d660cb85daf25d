package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/internal/heap"
	"github.com/keyward/keyward/internal/httplimit"
	"github.com/keyward/keyward/mcp"
	"github.com/keyward/keyward/metrics"
	"github.com/keyward/keyward/oauth"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/web"
	"github.com/spf13/cobra"
)

// shutdownTimeout bounds the graceful shutdown: requests in flight get this
// long to finish.
const shutdownTimeout = 15 * time.Second

func (a *app) serveCmd() *cobra.Command {
	var (
		db              dbFlags
		addr, publicURL string
		limits          rateFlags
		edge            edgeFlags
		logs            logFlags
		retention       string
		headroom        string
		feed            feedFlags
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the keyward server",
		Long: `Serve opens the database (creating a SQLite file on first start and running
migrations), and serves the HTTP API, the dashboard, the MCP endpoint and
the OAuth authorization server until SIGINT or SIGTERM, when it finishes
the requests in flight and writes the usage it holds in memory.

--config names a YAML (or JSON) file with the product's permissions, the
trusted proxies and the route policy of GET /v1/auth; it is checked at
start, and any mistake stops serve with a message naming the field.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), db, addr, publicURL, limits, edge, logs, retention, headroom, feed)
		},
	}
	db.add(a, cmd)
	limits.add(a, cmd)
	edge.add(a, cmd)
	logs.add(a, cmd)
	cmd.Flags().StringVar(&addr, "addr", envOr(a.getenv, "KEYWARD_ADDR", "127.0.0.1:8080"), "address to listen on, HOST:PORT ($KEYWARD_ADDR)")
	cmd.Flags().StringVar(&retention, "change-retention", envOr(a.getenv, "KEYWARD_CHANGE_RETENTION", "24h"),
		"how long change-feed entries are kept, at least 1m; a node cut off from the database for longer empties its verification cache when it comes back ($KEYWARD_CHANGE_RETENTION)")
	cmd.Flags().StringVar(&headroom, "heap-headroom", envOr(a.getenv, "KEYWARD_HEAP_HEADROOM", "64"),
		"MiB of garbage the Go heap may gather between collections, whatever its size; 0 leaves the runtime's default, as does setting GOGC or GOMEMLIMIT ($KEYWARD_HEAP_HEADROOM)")
	cmd.Flags().StringVar(&feed.maxStaleness, "max-staleness", envOr(a.getenv, "KEYWARD_MAX_STALENESS", "30s"),
		"how long this node may go without reading the change feed to its end before it stops answering verifications from its cache (503 unavailable) and /readyz answers 503; 0 for no bound ($KEYWARD_MAX_STALENESS)")
	cmd.Flags().StringVar(&feed.staleVerdicts, "stale-verdicts", envOr(a.getenv, "KEYWARD_STALE_VERDICTS", "refuse"),
		"past --max-staleness: refuse (fail closed, 503) or serve (fail open: answer from the cache, which may miss revocations made on other nodes) ($KEYWARD_STALE_VERDICTS)")
	cmd.Flags().StringVar(&publicURL, "public-url", a.getenv("KEYWARD_PUBLIC_URL"), "the URL clients reach this server at, http(s)://HOST[:PORT], for the OpenAPI document, the MCP resource and the OAuth issuer ($KEYWARD_PUBLIC_URL)")
	return cmd
}

// serve runs the server until ctx ends.
func (a *app) serve(ctx context.Context, db dbFlags, addr, publicURL string, limits rateFlags, edge edgeFlags, logs logFlags, retention, headroom string, feed feedFlags) error {
	if publicURL != "" {
		if _, err := mcp.ParsePublicURL(publicURL); err != nil {
			return err
		}
	}
	changeRetention, err := keyward.ParseDuration(retention)
	if err != nil || changeRetention < service.MinChangeRetention {
		return usageError{fmt.Errorf("--change-retention %q: want a duration of at least %s, such as \"24h\" or \"7d\"",
			retention, keyward.FormatDuration(service.MinChangeRetention))}
	}
	maxStaleness, failOpen, err := feed.parse()
	if err != nil {
		return err
	}
	headroomMiB, err := strconv.Atoi(headroom)
	if err != nil || headroomMiB < 0 || headroomMiB > 1<<20 {
		return usageError{fmt.Errorf("--heap-headroom %q: want a whole number of MiB, 0 to leave the runtime's default", headroom)}
	}
	log, err := logs.logger(a.stderr)
	if err != nil {
		return err
	}
	cfg, err := edge.load(&db)
	if err != nil {
		return err
	}
	rateLimits, closeLimiter, err := limits.open(ctx, log)
	if err != nil {
		return err
	}
	defer closeLimiter()
	svc, closeSvc, err := db.openService(ctx, service.Options{Logger: log, TokenRateLimit: limits.token, ChangeRetention: changeRetention})
	if err != nil {
		return err
	}
	// closeSvc writes the usage gathered in memory, so it runs after the
	// last request.
	defer closeSvc()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", addr, err)
	}
	background, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	// An operator's own GOGC or GOMEMLIMIT is theirs to keep.
	if headroomMiB > 0 && a.getenv("GOGC") == "" && a.getenv("GOMEMLIMIT") == "" {
		heap.Tune(background, uint64(headroomMiB)<<20, time.Second)
	}
	svc.Start(background, 0)
	svc.Verifier().SetMaxStaleness(maxStaleness, failOpen)
	followed, err := follow(background, svc, db.url, log)
	if err != nil {
		return err
	}

	baseURL := publicURL
	if baseURL == "" {
		baseURL = "http://" + ln.Addr().String()
	}
	// Other packages add their collectors to reg (Register, GaugeFunc).
	reg := metrics.New()
	if err := addServiceMetrics(reg, svc, rateLimits); err != nil {
		ln.Close()
		return err
	}
	if err := reg.BuildInfo(buildVersion(), runtime.Version()); err != nil {
		ln.Close()
		return err
	}
	rateLimits.Refused = reg.RateLimited
	// The OAuth endpoints and failed authentication on /mcp are counted
	// per client address, as the API counts requests without a token.
	addrLimit := httplimit.NewAddressLimiter(rateLimits, cfg.TrustedProxies, log)
	oauthH, err := oauth.NewHandler(svc, web.NewSessions(svc, cfg.TrustedProxies), oauth.Options{
		Issuer: baseURL, Logger: log, RateLimit: addrLimit, TrustedProxies: cfg.TrustedProxies,
	})
	if err != nil {
		ln.Close()
		return err
	}
	root := rootHandler(mounts{
		mcp: mcp.NewHandler(svc, mcp.Options{
			PublicURL: publicURL, Version: buildVersion(), Logger: log, RateLimit: addrLimit, TrustedProxies: cfg.TrustedProxies,
		}),
		oauth: oauthH,
		web:   web.NewHandler(svc, web.Options{Logger: log, BaseURL: publicURL, TrustedProxies: cfg.TrustedProxies}),
		api: api.NewServer(svc, api.Options{
			Logger: log, BaseURL: publicURL, RateLimit: rateLimits,
			TrustedProxies: cfg.TrustedProxies, Routes: cfg.Routes, IdentityHeaders: cfg.IdentityHeaders, Metrics: reg,
		}),
	})
	srv := &http.Server{
		Handler: root,
		// A request's headers must arrive within 10 s and the whole
		// request within 30 s (its bodies are small JSON; a body read
		// past it is a 408). The header deadline costs each request one
		// more timer change (decision 81).
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	url := "http://" + ln.Addr().String()
	log.Info("keyward listening", "url", url, "database", redactURL(db.url),
		"config", edge.configPath, "route_rules", cfg.ruleCount(), "trusted_proxies", len(cfg.TrustedProxies),
		"change_retention", keyward.FormatDuration(changeRetention),
		"max_staleness", maxStaleness, "stale_verdicts", feed.staleVerdicts)
	fmt.Fprintf(a.stdout, "keyward listening on %s\n", url)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("keyward shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("shutdown cut short", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	stopBackground()
	<-followed
	if err := svc.Close(sctx); err != nil {
		return fmt.Errorf("writing usage at shutdown: %w", err)
	}
	log.Info("keyward stopped")
	return nil
}

// feedFlags bound how far behind the change feed a node may answer.
type feedFlags struct {
	maxStaleness, staleVerdicts string
}

// parse returns the bound (0: none) and whether verdicts are served past
// it.
func (f feedFlags) parse() (time.Duration, bool, error) {
	d, err := keyward.ParseDuration(f.maxStaleness)
	if err != nil {
		return 0, false, usageError{fmt.Errorf("--max-staleness %q: want a duration such as \"30s\", or 0 for no bound", f.maxStaleness)}
	}
	switch f.staleVerdicts {
	case "refuse":
		return d, false, nil
	case "serve":
		return d, true, nil
	}
	return 0, false, usageError{fmt.Errorf("--stale-verdicts %q: want refuse or serve", f.staleVerdicts)}
}
