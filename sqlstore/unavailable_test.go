package sqlstore

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

// classify turns the errors the dialect calls unavailable into
// EUNAVAILABLE errors that keep their cause, leaves every other error as
// it is, and logs an outage once as it starts and once as it ends.
func TestClassify(t *testing.T) {
	down := errors.New("connection refused")
	db := &DB{d: Dialect{Name: "test", IsUnavailable: func(err error) bool { return errors.Is(err, down) }}}
	var logs bytes.Buffer
	db.SetLogger(slog.New(slog.NewTextHandler(&logs, nil)))

	other := errors.New("syntax error")
	if err := db.classify(other); err != other {
		t.Errorf("classify(other) = %v, want it unchanged", err)
	}
	for range 3 {
		err := db.classify(down)
		if keyward.ErrorCode(err) != keyward.EUNAVAILABLE || !errors.Is(err, down) {
			t.Fatalf("classify(down) = %v, want EUNAVAILABLE wrapping the cause", err)
		}
		if strings.Contains(keyward.ErrorMessage(err), "refused") {
			t.Errorf("the message a client sees holds the driver's text: %q", keyward.ErrorMessage(err))
		}
	}
	if !db.Down() {
		t.Error("Down() = false during the outage")
	}
	// An answer of the database, even a refusal, ends the outage.
	if err := db.classify(keyward.ErrNotFound("token")); keyward.ErrorCode(err) != keyward.ENOTFOUND {
		t.Errorf("classify(not found) = %v", err)
	}
	_ = db.classify(nil)
	if db.Down() {
		t.Error("Down() = true after the database answered")
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 {
		t.Errorf("%d WARN lines, want 1:\n%s", n, out)
	}
	if n := strings.Count(out, "level=INFO"); n != 1 {
		t.Errorf("%d INFO lines, want 1:\n%s", n, out)
	}
}
