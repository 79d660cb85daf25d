package sqlstore

import (
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/keyward/keyward"
)

// errUnavailable is the error a caller sees while the database cannot be
// reached: the API answers it 503 with Retry-After.
var errUnavailable = &keyward.Error{
	Code:    keyward.EUNAVAILABLE,
	Message: "the database is unavailable",
	Detail:  "try again in a few seconds",
}

// outage tracks whether the database is reachable, so that an outage is
// logged once as it starts (WARN) and once as it ends (INFO) rather than
// once a request.
type outage struct {
	down atomic.Bool
	log  atomic.Pointer[slog.Logger]
}

// SetLogger sets where the start and end of a database outage are logged;
// nil discards them.
func (db *DB) SetLogger(log *slog.Logger) { db.outage.log.Store(log) }

// Down reports whether the last operation found the database unreachable.
func (db *DB) Down() bool { return db.outage.down.Load() }

// classify turns an error that says the database cannot be reached into
// an EUNAVAILABLE error that wraps it, and notes whether the database
// answered. Errors that already carry a keyward code are left alone.
func (db *DB) classify(err error) error {
	if err == nil {
		db.up()
		return nil
	}
	var kerr *keyward.Error
	if errors.As(err, &kerr) {
		if kerr.Code == keyward.EUNAVAILABLE {
			db.down(err)
		} else {
			db.up() // the database answered
		}
		return err
	}
	if db.d.IsUnavailable == nil || !db.d.IsUnavailable(err) {
		return err
	}
	db.down(err)
	return fmt.Errorf("%w: %w", errUnavailable, err)
}

func (db *DB) down(err error) {
	if db.outage.down.CompareAndSwap(false, true) {
		if log := db.outage.log.Load(); log != nil {
			log.Warn("the database is unavailable; answering 503 until it is back", "backend", db.d.Name, "err", err)
		}
	}
}

func (db *DB) up() {
	if db.outage.down.CompareAndSwap(true, false) {
		if log := db.outage.log.Load(); log != nil {
			log.Info("the database is available again", "backend", db.d.Name)
		}
	}
}
