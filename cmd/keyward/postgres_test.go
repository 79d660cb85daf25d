package main

import (
	"errors"
	"os"
	"testing"
)

// postgresURL returns the URL of a PostgreSQL database for a test, from
// KEYWARD_TEST_POSTGRES_URL. Without it the test is skipped, or fails when
// KEYWARD_TEST_STRICT=1.
func postgresURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("KEYWARD_TEST_POSTGRES_URL")
	if u == "" {
		if os.Getenv("KEYWARD_TEST_STRICT") == "1" {
			t.Fatal("KEYWARD_TEST_POSTGRES_URL is not set and KEYWARD_TEST_STRICT=1")
		}
		t.Skip("set KEYWARD_TEST_POSTGRES_URL to run the PostgreSQL end-to-end test")
	}
	return u
}

// requireStorage skips tests that need a database while the storage
// packages are not wired into this binary yet.
func requireStorage(t *testing.T) {
	t.Helper()
	if _, err := openStore(t.Context(), ""); errors.Is(err, errNoStorage) {
		t.Skip("storage is not wired into cmd/keyward yet")
	}
}
