// Command keyward is keyward's one binary: the server (serve), the
// operator commands that act on the database directly (bootstrap, admin,
// migrate, backup) and the CLI for the HTTP API (token, key, member,
// policy, audit, login, logout).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
