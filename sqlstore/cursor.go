package sqlstore

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/keyward/keyward"
)

// Cursors are opaque to callers: base64url (unpadded) of a small text.
// A token cursor is "t1.<created_at microseconds>.<id>" of the last token
// of a page; an audit cursor is "a1.<id>" of the last event.

func errCursor() error { return keyward.Errorf(keyward.EINVALID, "invalid cursor") }

func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func decodeCursor(c, tag string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", errCursor()
	}
	rest, ok := strings.CutPrefix(string(b), tag+".")
	if !ok {
		return "", errCursor()
	}
	return rest, nil
}

func tokenCursor(t *keyward.Token) string {
	return encodeCursor("t1." + strconv.FormatInt(micros(t.CreatedAt), 10) + "." + t.ID)
}

func parseTokenCursor(c string) (created int64, id string, err error) {
	rest, err := decodeCursor(c, "t1")
	if err != nil {
		return 0, "", err
	}
	us, id, ok := strings.Cut(rest, ".")
	if !ok || id == "" {
		return 0, "", errCursor()
	}
	created, err = strconv.ParseInt(us, 10, 64)
	if err != nil {
		return 0, "", errCursor()
	}
	return created, id, nil
}

func auditCursor(id int64) string { return encodeCursor("a1." + strconv.FormatInt(id, 10)) }

func parseAuditCursor(c string) (int64, error) {
	rest, err := decodeCursor(c, "a1")
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, errCursor()
	}
	return id, nil
}
