package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/storetest"
)

func TestMigrations(t *testing.T) {
	ms, err := Migrations()
	if err != nil {
		t.Fatalf("Migrations: %v", err)
	}
	db, err := openWriter(t.Context(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatalf("openWriter: %v", err)
	}
	defer db.Close()
	storetest.Migrations(t, db, dialect, ms)
}
