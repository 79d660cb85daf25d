package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestIsUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, refused := pgx.Connect(ctx, "postgres://u@"+closedPort(t)+"/db?sslmode=disable&connect_timeout=2")
	if refused == nil {
		t.Fatal("connecting to a closed port succeeded")
	}
	short, cancel2 := context.WithTimeout(t.Context(), time.Nanosecond)
	defer cancel2()
	<-short.Done()
	_, deadline := pgx.Connect(short, "postgres://u@"+closedPort(t)+"/db?sslmode=disable")
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"wrapped connection refused", fmt.Errorf("postgres: begin: %w", refused), true},
		{"deadline while connecting", deadline, true},
		{"admin_shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"crash_shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"cannot_connect_now", &pgconn.PgError{Code: "57P03"}, true},
		{"connection_failure", &pgconn.PgError{Code: "08006"}, true},
		{"too_many_connections is not an outage of the database", &pgconn.PgError{Code: "53300"}, false},
		{"unique_violation", &pgconn.PgError{Code: "23505"}, false},
		{"serialization_failure", &pgconn.PgError{Code: "40001"}, false},
		{"query_canceled", &pgconn.PgError{Code: "57014"}, false},
		{"caller cancelled", context.Canceled, false},
		{"no rows", pgx.ErrNoRows, false},
		{"nil", nil, false},
		{"other", errors.New("boom"), false},
	} {
		if got := postgres.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestAdminShutdownUnavailable ends a session from another one, as a
// server shutting down does: the next query fails with 57P01 or a lost
// connection, both outages.
func TestAdminShutdownUnavailable(t *testing.T) {
	u := testenv.PostgresURL(t)
	ctx := t.Context()
	victim, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer victim.Close(context.Background())
	admin, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", victim.PgConn().PID()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	_, err = victim.Exec(ctx, "SELECT 1")
	if err == nil {
		t.Fatal("query on a terminated session succeeded")
	}
	if !postgres.IsUnavailable(err) {
		t.Errorf("IsUnavailable(%v) = false after pg_terminate_backend", err)
	}
}

// TestStoreUnavailable puts a proxy between the store and PostgreSQL and
// cuts it: reads, writes and pings fail with EUNAVAILABLE, and work again
// once it is restored.
func TestStoreUnavailable(t *testing.T) {
	u := testenv.PostgresURL(t)
	pu, _ := url.Parse(u)
	proxy := testenv.NewProxy(t, pu.Host)
	db, err := postgres.Open(t.Context(), proxy.URL(t, u))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	view := func() error {
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		return db.View(ctx, func(tx service.Tx) error {
			_, err := tx.LastChangeSeq(ctx)
			return err
		})
	}
	if err := view(); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	for name, err := range map[string]error{
		"view":   view(),
		"update": db.Update(t.Context(), func(tx service.Tx) error { _, err := tx.LastChangeSeq(t.Context()); return err }),
		"ping":   db.Ping(t.Context()),
	} {
		if keyward.ErrorCode(err) != keyward.EUNAVAILABLE {
			t.Errorf("%s while cut: %v, want code %s", name, err, keyward.EUNAVAILABLE)
		}
	}
	if !db.Down() {
		t.Error("Down() = false while cut")
	}
	proxy.Restore()
	if err := view(); err != nil {
		t.Errorf("view after restore: %v", err)
	}
	if db.Down() {
		t.Error("Down() = true after restore")
	}
}
