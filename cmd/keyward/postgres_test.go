package main

import (
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// postgresURL returns the URL of a fresh PostgreSQL database for a test.
// Without KEYWARD_TEST_POSTGRES_URL the test is skipped, or fails when
// KEYWARD_TEST_STRICT=1.
func postgresURL(t *testing.T) string {
	t.Helper()
	return testenv.PostgresURL(t)
}
