package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/spf13/cobra"
)

// dbFlags say which database operator commands and serve act on, and the
// installation settings that every token minted there depends on.
type dbFlags struct {
	url         string
	prefix      string
	permissions []string
}

// add gives cmd --database-url, --prefix and --permissions, defaulting to
// KEYWARD_DATABASE_URL, KEYWARD_PREFIX and KEYWARD_PERMISSIONS.
func (d *dbFlags) add(a *app, cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&d.url, "database-url", envOr(a.getenv, "KEYWARD_DATABASE_URL", defaultDatabaseURL),
		"postgres://..., sqlite:///path/file.db or a file path ($KEYWARD_DATABASE_URL)")
	f.StringVar(&d.prefix, "prefix", a.getenv("KEYWARD_PREFIX"), `instance prefix of tokens, default "kw" ($KEYWARD_PREFIX)`)
	f.StringSliceVar(&d.permissions, "permissions", splitList(a.getenv("KEYWARD_PERMISSIONS")),
		`the product's permissions, e.g. "monitors:read,monitors:write" ($KEYWARD_PERMISSIONS)`)
}

// addURL gives cmd only --database-url (migrate, backup).
func (d *dbFlags) addURL(a *app, cmd *cobra.Command) {
	cmd.Flags().StringVar(&d.url, "database-url", envOr(a.getenv, "KEYWARD_DATABASE_URL", defaultDatabaseURL),
		"postgres://..., sqlite:///path/file.db or a file path ($KEYWARD_DATABASE_URL)")
}

// openService opens the database and a service over it; close releases
// both, writing what usage the service still holds.
func (d *dbFlags) openService(ctx context.Context, opts service.Options) (*service.Service, func(), error) {
	store, err := openStore(ctx, d.url)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the database: %w", err)
	}
	opts.InstancePrefix, opts.ProductPermissions = d.prefix, d.permissions
	// The store logs the start and end of a database outage, once each.
	if l, ok := store.(interface{ SetLogger(*slog.Logger) }); ok && opts.Logger != nil {
		l.SetLogger(opts.Logger)
	}
	svc, err := service.New(store, opts)
	if err != nil {
		store.Close()
		return nil, nil, operatorError("configuring keyward", err)
	}
	return svc, func() {
		_ = svc.Close(context.WithoutCancel(ctx))
		_ = store.Close()
	}, nil
}

// opError words a service error of an operator command as the CLI words
// API errors: "what: message: detail (code)".
type opError struct {
	what string
	err  *keyward.Error
}

func (e *opError) Error() string {
	msg := e.err.Message
	if e.err.Detail != "" {
		msg += ": " + e.err.Detail
	}
	return fmt.Sprintf("%s: %s (%s)", e.what, msg, e.err.Code)
}

func (e *opError) Unwrap() error { return e.err }

// operatorError wraps err from the service with what was being done.
func operatorError(what string, err error) error {
	var ke *keyward.Error
	if errors.As(err, &ke) {
		return &opError{what: what, err: ke}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// envOr returns the variable's value, or def when it is unset or empty.
func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// splitList reads a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readPasswordFile reads a password from the first line of path, or of
// stdin when path is "-".
func (a *app) readPasswordFile(path string) (string, error) {
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", fmt.Errorf("reading the password file: %w", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return "", fmt.Errorf("reading the password file: %w", err)
	}
	pw, _, _ := strings.Cut(string(b), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return "", fmt.Errorf("the password file %s is empty", path)
	}
	return pw, nil
}
