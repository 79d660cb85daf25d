// Package testenv gives tests what they need from outside Go, or skips
// them with a message saying what to set; with KEYWARD_TEST_STRICT=1 a
// missing need is a failure instead, as CI wants.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Environment variables that tests read.
const (
	// PostgresURLVar names a PostgreSQL server for the tests, as a
	// postgres:// URL of a database the tests may connect to in order to
	// create and drop databases of their own.
	PostgresURLVar = "KEYWARD_TEST_POSTGRES_URL"
	// StrictVar set to 1 turns skips for a missing need into failures.
	StrictVar = "KEYWARD_TEST_STRICT"
)

// Strict reports whether KEYWARD_TEST_STRICT=1: tests must not skip for
// want of something outside Go.
func Strict() bool { return os.Getenv(StrictVar) == "1" }

// SkipOrFail skips the test with msg, or fails it when Strict.
func SkipOrFail(tb testing.TB, msg string) {
	tb.Helper()
	if Strict() {
		tb.Fatalf("%s (and %s=1 forbids skipping)", msg, StrictVar)
	}
	tb.Skip(msg)
}

// PostgresURL returns the URL of a fresh, empty PostgreSQL database that
// the test owns: it creates keyward_test_<random> on the server that
// KEYWARD_TEST_POSTGRES_URL names, and drops it when the test and its
// subtests end (after the cleanups they register, such as closing a
// store). Without the variable the test is skipped, or fails when Strict.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PostgresURLVar)
	if base == "" {
		SkipOrFail(tb, "set "+PostgresURLVar+"=postgres://... to run the PostgreSQL tests")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		tb.Fatalf("%s must be a postgres:// URL", PostgresURLVar)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "keyward_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := adminExec(ctx, base, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("creating test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE ends connections that a failed test left open.
		if err := adminExec(ctx, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("dropping test database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// adminExec runs one statement on the database that connString names.
func adminExec(ctx context.Context, connString, stmt string) error {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("invalid %s", PostgresURLVar)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
