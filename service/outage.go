package service

import (
	"context"
	"log/slog"

	"github.com/keyward/keyward"
)

// logBackground logs the failure of a background write at level, or at
// debug when the database is unavailable: the store logs an outage once,
// as it starts, and the write is retried at the next tick.
func (s *Service) logBackground(ctx context.Context, level slog.Level, msg string, err error) {
	if keyward.ErrorCode(err) == keyward.EUNAVAILABLE {
		level = slog.LevelDebug
	}
	s.log.Log(ctx, level, msg, "err", err)
}

// backgroundError logs a failed background write as an error, but for an
// outage.
func (s *Service) backgroundError(ctx context.Context, msg string, err error) {
	s.logBackground(ctx, slog.LevelError, msg, err)
}

// backgroundWarn logs a failed background write as a warning, but for an
// outage.
func (s *Service) backgroundWarn(ctx context.Context, msg string, err error) {
	s.logBackground(ctx, slog.LevelWarn, msg, err)
}
