package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyward/keyward/client"
)

func (a *app) healthCmd() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "health [--url URL]",
		Short: "Check that a server is ready to serve: exit 0 if so, 1 if not",
		Long: `Health asks the server's /readyz, which needs no token, and exits 0 when
the server is ready (its database answers) and 1 when it is not or does not
answer within 5 s: a health check for containers and load balancers.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = "http://127.0.0.1:8080"
			}
			cl := client.New(url, "", client.WithUserAgent(userAgent()))
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Second)
			defer cancel()
			if _, err := cl.Ready(ctx); err != nil {
				return fmt.Errorf("%s is not ready: %w", url, err)
			}
			if a.json() {
				return a.printJSON(map[string]string{"status": "ready", "url": url})
			}
			fmt.Fprintf(a.stdout, "%s is ready.\n", url)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", a.getenv("KEYWARD_URL"), "server URL (default $KEYWARD_URL, then http://127.0.0.1:8080)")
	return cmd
}
