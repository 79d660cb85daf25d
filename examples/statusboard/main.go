// Command statusboard is a small monitors API guarded by keyward through
// the guard package: the example of a resource server. Monitors are kept
// in memory, per org.
//
//	KEYWARD_URL=http://127.0.0.1:8080 KEYWARD_API_KEY=kw_key_... go run ./examples/statusboard
//
// Its routes and the permission each needs:
//
//	GET    /v1/monitors          monitors:read
//	POST   /v1/monitors          monitors:write
//	GET    /v1/monitors/{id}     monitors:read, and the token's scopes allow read of monitor {id}
//	DELETE /v1/monitors/{id}     monitors:write, and the scopes allow delete of monitor {id}
//	POST   /v1/agents/metrics    an agent token with agent:heartbeat
//	GET    /v1/agents            monitors:read: the agents' latest metrics
//	POST   /v1/probes/results    a probe token with probe:report
//	GET    /healthz              nothing
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/guard"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "statusboard:", err)
		os.Exit(1)
	}
}

// run serves the statusboard until ctx ends. It writes "statusboard
// listening on http://ADDR" to stdout once it accepts connections.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("statusboard", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := func(name, fallback string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return fallback
	}
	addr := fs.String("addr", def("STATUSBOARD_ADDR", "127.0.0.1:8090"), "address to listen on (env STATUSBOARD_ADDR)")
	kwURL := fs.String("keyward-url", def("KEYWARD_URL", ""), "base URL of the keyward server (env KEYWARD_URL)")
	key := fs.String("key", def("KEYWARD_API_KEY", ""), "org API key with tokens:verify (env KEYWARD_API_KEY, which keeps it out of the process list)")
	ttlDefault := guard.DefaultTTL
	if v := getenv("STATUSBOARD_CACHE_TTL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("STATUSBOARD_CACHE_TTL: %w", err)
		}
		ttlDefault = d
	}
	ttl := fs.Duration("cache-ttl", ttlDefault, "how long a valid verdict is reused: the bound on how long a revocation takes to be seen; negative turns the cache off (env STATUSBOARD_CACHE_TTL)")
	proxies := fs.String("trusted-proxies", def("STATUSBOARD_TRUSTED_PROXIES", ""), "comma-separated networks of the reverse proxies in front, whose X-Forwarded-For is believed (env STATUSBOARD_TRUSTED_PROXIES)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var trusted []netip.Prefix
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %w", err)
		}
		trusted = append(trusted, pfx)
	}
	if *kwURL == "" || *key == "" {
		return errors.New("give the keyward server's URL and an org API key with tokens:verify: --keyward-url and --key, or KEYWARD_URL and KEYWARD_API_KEY")
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	g := guard.New(client.New(*kwURL, *key, client.WithUserAgent("statusboard")), guard.Options{TTL: *ttl, TrustedProxies: trusted, Logger: logger})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newHandler(g, newStore(time.Now)), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "statusboard listening on http://%s\n", ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	err = srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		<-done
		return nil
	}
	return err
}
