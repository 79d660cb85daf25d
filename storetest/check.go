package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/keyward/keyward"
)

// wantCode fails the test unless err carries the keyward error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := keyward.ErrorCode(err); got != code {
		t.Errorf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// noErr fails the test now if err is not nil.
func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// stored returns t as a store gives it back: in UTC, to the microsecond.
func stored(t time.Time) time.Time { return time.UnixMicro(t.UnixMicro()).UTC() }

// storedPtr is stored for optional times.
func storedPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := stored(*t)
	return &s
}

// storedToken returns a copy of tok as a store gives it back.
func storedToken(tok *keyward.Token) *keyward.Token {
	c := *tok
	c.CreatedAt = stored(c.CreatedAt)
	c.ExpiresAt, c.LastUsedAt, c.RevokedAt = storedPtr(c.ExpiresAt), storedPtr(c.LastUsedAt), storedPtr(c.RevokedAt)
	return &c
}

// sameFields reports each field in which got and want differ, as
// "Field: got X, want Y". Nil and empty slices differ.
func sameFields(t *testing.T, what string, got, want any) {
	t.Helper()
	gv, wv := reflect.Indirect(reflect.ValueOf(got)), reflect.Indirect(reflect.ValueOf(want))
	if !gv.IsValid() || !wv.IsValid() {
		if gv.IsValid() != wv.IsValid() {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	for i := range gv.NumField() {
		g, w := gv.Field(i), wv.Field(i)
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			t.Errorf("%s: %s: got %s, want %s", what, gv.Type().Field(i).Name, show(g), show(w))
		}
	}
}

// show prints a value for a failure message: pointers by what they point
// to, and nil slices apart from empty ones.
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return show(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return "nil " + v.Type().String()
		}
	}
	return fmt.Sprintf("%#v", v.Interface())
}

// showTime prints an optional time.
func showTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return t.String()
}
