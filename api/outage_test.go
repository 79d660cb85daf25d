package api_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// downStore fails every transaction as an unreachable database does,
// while down is set.
type downStore struct {
	service.Store
	down *atomic.Bool
}

var errDown = &keyward.Error{Code: keyward.EUNAVAILABLE, Message: "the database is unavailable"}

func (s downStore) View(ctx context.Context, fn func(tx service.Tx) error) error {
	if s.down.Load() {
		return errors.Join(errDown, errors.New("connection refused"))
	}
	return s.Store.View(ctx, fn)
}

func (s downStore) Update(ctx context.Context, fn func(tx service.Tx) error) error {
	if s.down.Load() {
		return errors.Join(errDown, errors.New("connection refused"))
	}
	return s.Store.Update(ctx, fn)
}

func (s downStore) Ping(ctx context.Context) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.Ping(ctx)
}

// While the store is unavailable, what needs it answers 503 unavailable
// with Retry-After in the JSON error shape the document describes, and
// logs no error; a cached token still authenticates.
func TestUnavailableStore(t *testing.T) {
	inner, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	down := &atomic.Bool{}
	e := newEnvOn(t, downStore{Store: inner, down: down}, api.Options{})
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, http.StatusOK, nil)
	before := len(e.logs.String())

	down.Store(true)
	for _, a := range []*answer{
		e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "ci"}),
		e.as(e.owner, "GET", "/v1/tokens", nil),
		e.do("GET", "/readyz", nil),
	} {
		a.wantError(t, http.StatusServiceUnavailable, keyward.EUNAVAILABLE)
		if a.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: no Retry-After on a 503", a.method, a.path)
		}
	}
	e.as(e.owner, "GET", "/v1/whoami", nil).want(t, http.StatusOK, nil)
	if logs := e.logs.String()[before:]; strings.Contains(logs, "level=ERROR") {
		t.Errorf("an outage logged errors:\n%s", logs)
	}
	down.Store(false)
	e.as(e.owner, "POST", "/v1/tokens", map[string]any{"name": "ci"}).want(t, http.StatusCreated, nil)
}
