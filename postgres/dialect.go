package postgres

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/keyward/keyward/sqlstore"
)

// Advisory lock keys: one for migration runs, one for appends to the
// change feed. Any two constants serve, as long as nothing else in the
// database uses them.
const (
	migrationLockKey int64 = 0x6b65797761726401 // "keyward" 01
	changeLockKey    int64 = 0x6b65797761726402 // "keyward" 02
)

// dialect is PostgreSQL's.
var dialect = sqlstore.Dialect{
	Name:                  "postgres",
	HasTable:              `SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1`,
	WriteTx:               sql.TxOptions{Isolation: sql.LevelSerializable},
	ReadTx:                sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	IsUniqueViolation:     hasCode("23505"),
	IsForeignKeyViolation: hasCode("23503"),
	// serialization_failure and deadlock_detected.
	IsRetryable:    hasCode("40001", "40P01"),
	IsUnavailable:  IsUnavailable,
	LockChanges:    "SELECT pg_advisory_xact_lock(" + itoa(changeLockKey) + ")",
	LockMigrations: lockMigrations,
}

func hasCode(codes ...string) func(error) bool {
	return func(err error) bool {
		var e *pgconn.PgError
		if !errors.As(err, &e) {
			return false
		}
		for _, c := range codes {
			if e.Code == c {
				return true
			}
		}
		return false
	}
}

// lockMigrations takes the session advisory lock of migration runs on
// conn, waiting for another node's run to end.
func lockMigrations(ctx context.Context, conn *sql.Conn) (func() error, error) {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLockKey); err != nil {
		return nil, err
	}
	return func() error {
		// Released even when ctx is done; were this to fail, closing the
		// connection would release it.
		_, err := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockKey)
		return err
	}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
