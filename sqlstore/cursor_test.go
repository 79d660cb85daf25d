package sqlstore

import (
	"testing"
	"time"

	"github.com/keyward/keyward"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, tok := range []*keyward.Token{
		{ID: "tok_abc", CreatedAt: time.Date(2026, 11, 1, 12, 0, 0, 123456000, time.UTC)},
		{ID: "tok.with.dots", CreatedAt: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		created, id, err := parseTokenCursor(tokenCursor(tok))
		if err != nil || created != tok.CreatedAt.UnixMicro() || id != tok.ID {
			t.Errorf("token cursor of %s: got %d, %q, %v; want %d, %q, nil", tok.ID, created, id, err, tok.CreatedAt.UnixMicro(), tok.ID)
		}
	}
	for _, n := range []int64{1, 42, 1 << 62} {
		got, err := parseAuditCursor(auditCursor(n))
		if err != nil || got != n {
			t.Errorf("audit cursor of %d: got %d, %v; want %d, nil", n, got, err, n)
		}
	}
}
