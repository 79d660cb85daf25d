package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/keyward/keyward/service"
)

var _ service.Store = (*DB)(nil)

// maxAttempts bounds how often Update runs a transaction that keeps failing
// with a retryable error.
const maxAttempts = 100

// DB is a keyward database: it implements service.Store.
type DB struct {
	write *sql.DB
	read  *sql.DB
	d     Dialect

	outage outage

	// Now returns the current time. FindTokens judges expiry by it when its
	// filter has no time of its own. Tests may replace it.
	Now func() time.Time
}

// New returns a DB that runs Update on write and View on read, which may be
// the same pool. On SQLite, write should hold a single connection so that
// writers queue in Go rather than on the database lock. The DB owns both
// pools: Close closes them.
func New(write, read *sql.DB, d Dialect) *DB {
	return &DB{write: write, read: read, d: d, Now: time.Now}
}

// Writer returns the pool of read-write connections.
func (db *DB) Writer() *sql.DB { return db.write }

// Reader returns the pool of read-only connections.
func (db *DB) Reader() *sql.DB { return db.read }

// Dialect returns the backend's dialect.
func (db *DB) Dialect() Dialect { return db.d }

// Update runs fn in a read-write transaction and commits it if fn returns
// nil. A transaction that fails with an error the dialect calls retryable
// (a serialization failure or deadlock on PostgreSQL, a busy database on
// SQLite) is rolled back and run again, up to a bound.
func (db *DB) Update(ctx context.Context, fn func(tx service.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.run(ctx, db.write, db.d.WriteTx, true, fn)
		if err == nil || attempt == maxAttempts || !db.d.retryable(err) {
			return db.classify(err)
		}
		// Back off a little, more each time, with jitter so that the
		// transactions that collided do not collide again.
		wait := time.Duration(min(attempt*attempt, 100)) * 100 * time.Microsecond
		wait += rand.N(wait + 1)
		select {
		case <-ctx.Done():
			return db.classify(errors.Join(ctx.Err(), err))
		case <-time.After(wait):
		}
	}
}

// View runs fn in a read-only transaction: a snapshot of the database.
func (db *DB) View(ctx context.Context, fn func(tx service.Tx) error) error {
	return db.classify(db.run(ctx, db.read, db.d.ReadTx, false, fn))
}

func (db *DB) run(ctx context.Context, pool *sql.DB, opts sql.TxOptions, commit bool, fn func(tx service.Tx) error) error {
	sqlTx, err := pool.BeginTx(ctx, &opts)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", db.d.Name, err)
	}
	// A no-op after Commit; on an error or a panic in fn it ends the
	// transaction.
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx, d: &db.d, now: db.Now}); err != nil {
		return err
	}
	if !commit {
		return nil
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", db.d.Name, err)
	}
	return nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.write.PingContext(ctx); err != nil {
		return db.classify(fmt.Errorf("%s: ping: %w", db.d.Name, err))
	}
	if db.read != db.write {
		if err := db.read.PingContext(ctx); err != nil {
			return db.classify(fmt.Errorf("%s: ping: %w", db.d.Name, err))
		}
	}
	return db.classify(nil)
}

// Close closes the database's connections.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}
