package database_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/database"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlstore"
)

func TestParse(t *testing.T) {
	tests := []struct {
		url, backend, target string
	}{
		{"postgres://u:secret@db.example.com:5432/keyward?sslmode=require", database.Postgres, "postgres://u:secret@db.example.com:5432/keyward?sslmode=require"},
		{"postgresql://db/keyward", database.Postgres, "postgresql://db/keyward"},
		{"sqlite:///var/lib/keyward/keyward.db", database.SQLite, "/var/lib/keyward/keyward.db"},
		{"sqlite://data/keyward.db", database.SQLite, "data/keyward.db"},
		{"sqlite:keyward.db", database.SQLite, "keyward.db"},
		{"./keyward.db", database.SQLite, "./keyward.db"},
		{"/tmp/k.db", database.SQLite, "/tmp/k.db"},
		{`C:\keyward\keyward.db`, database.SQLite, `C:\keyward\keyward.db`},
	}
	for _, tt := range tests {
		backend, target, err := database.Parse(tt.url)
		if err != nil || backend != tt.backend || target != tt.target {
			t.Errorf("Parse(%q): got %q, %q, %v; want %q, %q, nil", tt.url, backend, target, err, tt.backend, tt.target)
		}
		if got, want := database.IsPostgres(tt.url), tt.backend == database.Postgres; got != want {
			t.Errorf("IsPostgres(%q): got %v, want %v", tt.url, got, want)
		}
	}
	for _, url := range []string{"", "sqlite://", "sqlite:", "mysql://u:secret@db/keyward"} {
		_, _, err := database.Parse(url)
		if err == nil {
			t.Errorf("Parse(%q): got no error, want one", url)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q): error %q shows the password", url, err)
		}
	}
}

// roundTrip writes a user through db and reads it back.
func roundTrip(t *testing.T, db *sqlstore.DB) {
	t.Helper()
	ctx := t.Context()
	if err := db.Update(ctx, func(tx service.Tx) error {
		return tx.CreateUser(ctx, &keyward.User{ID: "usr_1", Email: "one@example.com"})
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if err := db.View(ctx, func(tx service.Tx) error {
		_, err := tx.FindUserByEmail(ctx, "ONE@example.com")
		return err
	}); err != nil {
		t.Fatalf("View: %v", err)
	}
}

func TestSQLite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for i, url := range []string{filepath.Join(dir, "plain.db"), "sqlite://" + filepath.Join(dir, "url.db")} {
		if err := database.Migrate(ctx, url); err != nil {
			t.Fatalf("Migrate(%q): %v", url, err)
		}
		db, err := database.Open(ctx, url)
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		roundTrip(t, db)
		dest := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		if err := database.Backup(ctx, url, dest); err != nil {
			t.Errorf("Backup(%q): %v", url, err)
		}
		if err := database.Backup(ctx, url, dest); err == nil {
			t.Errorf("Backup(%q) onto an existing file: got no error, want one", url)
		}
		db.Close()
	}
	if err := database.Backup(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "copy.db")); err == nil {
		t.Errorf("Backup of a missing file: got no error, want one")
	}
}

func TestPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := context.Background()
	if err := database.Migrate(ctx, url); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	roundTrip(t, db)
	if err := database.Backup(ctx, url, filepath.Join(t.TempDir(), "copy.db")); err == nil {
		t.Errorf("Backup of PostgreSQL: got no error, want one")
	}
}
