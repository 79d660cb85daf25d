package sqlite

import (
	"database/sql"
	"errors"

	"github.com/keyward/keyward/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is SQLite's: writes are serialised by the single write
// connection and BEGIN IMMEDIATE, so neither the change feed nor
// migrations need a lock of their own; reads are deferred, read-only
// transactions.
var dialect = sqlstore.Dialect{
	Name:                  "sqlite",
	HasTable:              `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1`,
	WriteTx:               sql.TxOptions{},
	ReadTx:                sql.TxOptions{ReadOnly: true},
	IsUniqueViolation:     isUniqueViolation,
	IsForeignKeyViolation: isForeignKeyViolation,
	IsRetryable:           isBusy,
	// A database still busy after the busy timeout and Update's retries
	// is held by another process: an outage, not a bug.
	IsUnavailable: isBusy,
	Param:         func(int) string { return "?" },
	BatchRows:     1,
}

func code(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func isUniqueViolation(err error) bool {
	c := code(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKeyViolation(err error) bool {
	return code(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isBusy reports SQLITE_BUSY and its extended codes: another process held
// the file for longer than the busy timeout.
func isBusy(err error) bool {
	c := code(err)
	return c >= 0 && c&0xff == sqlite3.SQLITE_BUSY
}
