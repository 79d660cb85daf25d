package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/keyward/keyward/api"
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
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the keyward server",
		Long: `Serve opens the database (creating a SQLite file on first start and running
migrations), and serves the HTTP API and the dashboard until SIGINT or SIGTERM, when it
finishes the requests in flight and writes the usage it holds in memory.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.serve(cmd.Context(), db, addr, publicURL)
		},
	}
	db.add(a, cmd)
	cmd.Flags().StringVar(&addr, "addr", envOr(a.getenv, "KEYWARD_ADDR", "127.0.0.1:8080"), "address to listen on, HOST:PORT ($KEYWARD_ADDR)")
	cmd.Flags().StringVar(&publicURL, "public-url", a.getenv("KEYWARD_PUBLIC_URL"), "the URL clients reach this server at, for the OpenAPI document ($KEYWARD_PUBLIC_URL)")
	return cmd
}

// serve runs the server until ctx ends.
func (a *app) serve(ctx context.Context, db dbFlags, addr, publicURL string) error {
	log := slog.New(slog.NewTextHandler(a.stderr, nil))
	svc, closeSvc, err := db.openService(ctx, service.Options{Logger: log})
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
	svc.Start(background, 0)

	srv := &http.Server{
		Handler:           rootHandler(svc, log, publicURL),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	url := "http://" + ln.Addr().String()
	log.Info("keyward listening", "url", url, "database", redactURL(db.url))
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
	if err := svc.Close(sctx); err != nil {
		return fmt.Errorf("writing usage at shutdown: %w", err)
	}
	log.Info("keyward stopped")
	return nil
}

// rootHandler routes the API's paths to the API and everything else to
// the dashboard.
func rootHandler(svc *service.Service, log *slog.Logger, publicURL string) http.Handler {
	apiHandler := api.NewServer(svc, api.Options{Logger: log, BaseURL: publicURL})
	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/openapi.json", "/healthz", "/readyz"} {
		mux.Handle(p, apiHandler)
	}
	mux.Handle("/", web.NewHandler(svc, web.Options{Logger: log, BaseURL: publicURL}))
	return mux
}
