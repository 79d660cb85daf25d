package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// logFlags are serve's log settings.
type logFlags struct {
	format, level string
}

// add declares the flags on cmd, with defaults from the environment.
func (f *logFlags) add(a *app, cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.format, "log-format", envOr(a.getenv, "KEYWARD_LOG_FORMAT", "text"), "log lines as text (key=value) or json ($KEYWARD_LOG_FORMAT)")
	cmd.Flags().StringVar(&f.level, "log-level", envOr(a.getenv, "KEYWARD_LOG_LEVEL", "info"), "the least level logged: debug, info, warn or error ($KEYWARD_LOG_LEVEL)")
}

// logger returns the logger the flags ask for, writing to w.
func (f *logFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.level)); err != nil || strings.ContainsAny(f.level, "+-") {
		return nil, usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", f.level)}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: want text or json", f.format)}
}
