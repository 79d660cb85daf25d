package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/keyward/keyward/database"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
)

// Change-feed polling: on SQLite, nodes sharing one file learn of each
// other's changes by polling; on PostgreSQL, LISTEN/NOTIFY wakes them and
// the poll is only a safety net.
const (
	sqlitePoll   = 100 * time.Millisecond
	postgresPoll = 2 * time.Second
)

// follow keeps svc's verification cache true to changes made by every node
// sharing the database at url, until ctx ends; the returned channel is
// closed when it has stopped.
func follow(ctx context.Context, svc *service.Service, url string, log *slog.Logger) (<-chan struct{}, error) {
	backend, target, err := database.Parse(url)
	if err != nil {
		return nil, err
	}
	opts := service.FollowOptions{Poll: sqlitePoll}
	listening := make(chan struct{})
	if backend == database.Postgres {
		wake := make(chan struct{}, 1)
		opts = service.FollowOptions{Wake: wake, Poll: postgresPoll}
		go func() {
			defer close(listening)
			postgres.Listen(ctx, target, wake, log)
		}()
	} else {
		close(listening)
	}
	followed, err := svc.Follow(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("following the change feed: %w", err)
	}
	done := make(chan struct{})
	go func() {
		<-followed
		<-listening
		close(done)
	}()
	return done, nil
}
