package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
)

// Dialect is what differs between the SQL backends. The sqlite and
// postgres packages each provide one.
type Dialect struct {
	// Name names the backend in messages: "sqlite" or "postgres".
	Name string

	// WriteTx are the options of Update's transactions, ReadTx of View's.
	WriteTx, ReadTx sql.TxOptions

	// IsUniqueViolation reports whether err is a unique or primary key
	// constraint violation.
	IsUniqueViolation func(err error) bool
	// IsForeignKeyViolation reports whether err is a foreign key violation.
	IsForeignKeyViolation func(err error) bool
	// IsRetryable reports whether a transaction that failed with err may
	// succeed if run again: a serialization failure, a deadlock, a busy
	// database. Nil means never.
	IsRetryable func(err error) bool
	// IsUnavailable reports whether err says that the database cannot be
	// reached now (refused or lost connections, a server shutting down
	// or starting up): the store answers EUNAVAILABLE for it. Nil means
	// never.
	IsUnavailable func(err error) bool

	// Param, if set, is the placeholder of the i-th (from 1) bound
	// parameter in the long VALUES lists of batched writes; nil means
	// "$i". SQLite keeps named and numbered parameters in a list it
	// searches one by one, as it parses and as the driver binds, which
	// makes a statement of hundreds of them slow; plain "?" it does not
	// list.
	Param func(i int) string

	// BatchRows, if set, is how many rows a batched write puts in one
	// statement; 1 runs one prepared statement per row, which SQLite, in
	// process and with no round trip to save, runs faster than statements
	// of many rows.
	BatchRows int

	// LockChanges, if set, is run in a transaction before it appends to the
	// change feed, and holds a lock until the transaction ends, so that
	// entries commit in the order of their sequence numbers and a follower
	// reading "after seq N" never skips an entry that commits late. It takes
	// no arguments.
	LockChanges string

	// LockMigrations, if set, takes a lock that serialises migrations across
	// processes for as long as conn holds it, and returns the function that
	// releases it. Where nil, each migration's own write transaction is the
	// only serialisation needed.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)

	// HasTable is a query of one parameter, a table's name, that answers
	// how many tables of that name the schema has (0 or 1).
	HasTable string
}

func (d *Dialect) uniqueViolation(err error) bool {
	return err != nil && d.IsUniqueViolation != nil && d.IsUniqueViolation(err)
}

func (d *Dialect) foreignKeyViolation(err error) bool {
	return err != nil && d.IsForeignKeyViolation != nil && d.IsForeignKeyViolation(err)
}

func (d *Dialect) retryable(err error) bool {
	return err != nil && d.IsRetryable != nil && d.IsRetryable(err)
}

// param is the placeholder of the i-th bound parameter of a batched write.
func (d *Dialect) param(i int) string {
	if d.Param != nil {
		return d.Param(i)
	}
	return "$" + strconv.Itoa(i)
}
