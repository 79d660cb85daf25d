package sqlite_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// wantMode fails the test unless the file at path exists with mode 0600.
func wantMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Errorf("%s: %v", filepath.Base(path), err)
		return
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("%s: mode %04o, want 0600", filepath.Base(path), got)
	}
}

// TestFileModes opens a fresh database under the usual umask (022, which
// lets SQLite create files 0644) and backs it up both ways: the database,
// its -wal and -shm, and each backup are 0600.
func TestFileModes(t *testing.T) {
	defer syscall.Umask(syscall.Umask(0o022))
	dir := t.TempDir()
	path := filepath.Join(dir, "keyward.db")
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Update(t.Context(), func(tx service.Tx) error {
		return tx.CreateUser(t.Context(), &keyward.User{ID: "usr_1", Email: "u@example.com", CreatedAt: time.Now()})
	}); err != nil {
		t.Fatalf("Update: %v", err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		wantMode(t, name)
	}
	backup := filepath.Join(dir, "backup.db")
	if err := sqlite.Backup(t.Context(), db, backup); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	wantMode(t, backup)
	offline := filepath.Join(dir, "offline.db")
	if err := sqlite.BackupFile(t.Context(), path, offline); err != nil {
		t.Fatalf("BackupFile: %v", err)
	}
	wantMode(t, offline)
	if err := sqlite.Migrate(t.Context(), filepath.Join(dir, "migrated.db")); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	wantMode(t, filepath.Join(dir, "migrated.db"))

	// A backup that fails leaves no file behind, and one onto an existing
	// file fails without touching it.
	if err := sqlite.BackupFile(t.Context(), path, filepath.Join(dir, "missing", "b.db")); err == nil {
		t.Errorf("BackupFile into a missing folder: got no error")
	}
	if err := os.WriteFile(filepath.Join(dir, "taken.db"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.BackupFile(t.Context(), path, filepath.Join(dir, "taken.db")); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("BackupFile onto an existing file: got %v, want already exists", err)
	}
}

// TestLooseFileTightened opens a database whose file and WAL were left
// readable by others: they become 0600, and the change is logged once at
// WARN.
func TestLooseFileTightened(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyward.db")
	if err := sqlite.Migrate(t.Context(), path); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	// An empty WAL is no WAL to SQLite.
	if err := os.WriteFile(path+"-wal", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path+"-wal", 0o644); err != nil {
		t.Fatal(err)
	}

	var logged bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(prev)
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		wantMode(t, name)
	}
	out := logged.String()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Errorf("got %d warnings, want 1:\n%s", n, out)
	}
	if !strings.Contains(out, "keyward.db (was 0644)") || !strings.Contains(out, "keyward.db-wal (was 0644)") {
		t.Errorf("the warning does not name the files it changed:\n%s", out)
	}

	// A private database opens without a word.
	logged.Reset()
	db2, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open again: %v", err)
	}
	db2.Close()
	if logged.Len() != 0 {
		t.Errorf("reopening a private database logged:\n%s", logged.String())
	}
}
