package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
)

// fileMode is the mode of every file keyward writes for a SQLite
// database: the database, its -wal and -shm, and backups. They hold token
// hashes and password hashes, readable by the owner alone.
const fileMode fs.FileMode = 0o600

// sidecars are the suffixes of the files SQLite keeps beside a database
// in WAL mode (and the rollback journal, should one be left behind).
var sidecars = []string{"-wal", "-shm", "-journal"}

// prepareFile creates the database file at path with mode 0600 when it
// does not exist, before the driver opens it (SQLite would create it
// 0644, less the umask), and tightens an existing database file and its
// sidecars that are looser, logging that once at WARN.
func prepareFile(path string) error {
	if isMemory(path) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("sqlite: creating %s: %w", path, err)
	}
	return tighten(path)
}

// tighten makes the database file at path and its sidecars that exist
// 0600 when they are readable or writable by others than their owner. It
// logs once, at WARN, the files it changed.
func tighten(path string) error {
	var changed []string
	for _, name := range append([]string{path}, sidecarNames(path)...) {
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&^fileMode == 0 {
			continue
		}
		if err := os.Chmod(name, fileMode); err != nil {
			return fmt.Errorf("sqlite: making %s private: %w", name, err)
		}
		changed = append(changed, fmt.Sprintf("%s (was %04o)", name, fi.Mode().Perm()))
	}
	if len(changed) > 0 {
		slog.Warn("sqlite: database files were readable or writable by others; made them 0600",
			"files", strings.Join(changed, ", "))
	}
	return nil
}

// sidecarNames returns the names of the sidecar files of the database at
// path.
func sidecarNames(path string) []string {
	out := make([]string, len(sidecars))
	for i, s := range sidecars {
		out[i] = path + s
	}
	return out
}

// isMemory reports whether path names an in-memory database rather than
// a file.
func isMemory(path string) bool {
	return path == ":memory:" || strings.HasPrefix(path, "file::memory:")
}
