package sqlstore

import (
	"database/sql"
	"encoding/json"
	"time"
)

// micros is the stored form of a time: microseconds since the epoch.
func micros(t time.Time) int64 { return t.UnixMicro() }

// nullMicros is the stored form of an optional time: NULL or microseconds.
func nullMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// fromMicros reads a stored time back, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// fromNullMicros reads an optional stored time back.
func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores "" as NULL, for columns where NULL means none (and a
// foreign key must not see "").
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullBytes stores an empty byte slice as NULL.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// jsonColumn is the stored form of v, a slice: NULL when it is nil, its
// JSON otherwise, so that nil and empty stay apart.
func jsonColumn[T any](v []T) (any, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// fromJSONColumn reads a slice stored by jsonColumn.
func fromJSONColumn[T any](s sql.NullString, dst *[]T) error {
	if !s.Valid {
		*dst = nil
		return nil
	}
	*dst = []T{}
	return json.Unmarshal([]byte(s.String), dst)
}
