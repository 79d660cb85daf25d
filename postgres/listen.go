package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the channel on which the database announces change-feed
// entries as they commit (see migration 0003).
const NotifyChannel = "keyward_changes"

// ListenerName is the application_name of the connection that listens, so
// that an operator can tell it apart in pg_stat_activity.
const ListenerName = "keyward-listener"

// Listen holds one connection that LISTENs on NotifyChannel until ctx
// ends, and signals wake, without blocking, at each notification and
// after each connection is made: a node that reads the feed at each signal
// catches up on whatever it missed while the connection was down. A lost
// connection is made again after a pause that doubles from 50 ms to 5 s.
// Errors go to log (nil: discarded); their text never holds a password.
func Listen(ctx context.Context, connString string, wake chan<- struct{}, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	const minPause, maxPause = 50 * time.Millisecond, 5 * time.Second
	pause := time.Duration(0)
	for ctx.Err() == nil {
		err := listenOnce(ctx, connString, wake, func() { pause = 0 })
		if ctx.Err() != nil {
			return
		}
		pause = min(max(2*pause, minPause), maxPause)
		// An unreachable database is logged once, by the store; the
		// follower's poll covers the feed meanwhile.
		level := slog.LevelWarn
		if IsUnavailable(err) {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "change-feed listener disconnected; reconnecting", "err", err, "pause", pause)
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
	}
}

// listenOnce connects, listens and relays notifications until the
// connection fails or ctx ends. connected runs once LISTEN is in force.
func listenOnce(ctx context.Context, connString string, wake chan<- struct{}, connected func()) error {
	connString, _, err := poolSize(connString)
	if err != nil {
		return err
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("postgres: invalid connection string")
	}
	cfg.RuntimeParams["application_name"] = ListenerName
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: connecting to %s: %w", describe(cfg), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+NotifyChannel); err != nil {
		return fmt.Errorf("postgres: LISTEN: %w", err)
	}
	connected()
	signal(wake) // catch up on what was missed while not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("postgres: waiting for notifications: %w", err)
		}
		signal(wake)
	}
}

func signal(wake chan<- struct{}) {
	select {
	case wake <- struct{}{}:
	default:
	}
}
