package service_test

import (
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Promise 15: of concurrent rotations of one token exactly one wins, on
// every backend; the others are refused and mint nothing.
func TestConcurrentRotationsOneWinner(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, _, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 16
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, _, errs[i] = e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, time.Hour, service.RegenerateRequest{})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range errs {
			switch code(err) {
			case "":
				won++
			case keyward.ECONFLICT:
			default:
				t.Errorf("rotation %d: got %v, want success or conflict", i, err)
			}
		}
		if won != 1 {
			t.Fatalf("concurrent rotations: %d won, want exactly 1", won)
		}
		toks, _, err := e.svc.FindTokens(e.ctx, owner, service.Personal, keyward.TokenFilter{Limit: 200})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(toks); got != 3 {
			t.Fatalf("tokens after the rotations: got %d, want 3 (bootstrap, svc and one successor)", got)
		}
	})
}

// Promise 15: a superseded token is neither rotated nor regenerated again,
// and regenerating the head keeps the family, so that the reuse of a
// rotated-out token still revokes it.
func TestFamilyLinear(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		tok, old, err := e.svc.CreateToken(e.ctx, owner, service.Personal, service.TokenRequest{Name: "svc"})
		if err != nil {
			t.Fatal(err)
		}
		next, _, err := e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, time.Hour, service.RegenerateRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.RotateToken(e.ctx, owner, service.Personal, tok.ID, time.Hour, service.RegenerateRequest{}); code(err) != keyward.ECONFLICT {
			t.Fatalf("rotating a superseded token: got %v, want conflict", err)
		}
		if _, _, err := e.svc.RegenerateToken(e.ctx, owner, service.Personal, tok.ID, service.RegenerateRequest{}); code(err) != keyward.ECONFLICT {
			t.Fatalf("regenerating a superseded token: got %v, want conflict", err)
		}
		head, fresh, err := e.svc.RegenerateToken(e.ctx, owner, service.Personal, next.ID, service.RegenerateRequest{})
		if err != nil {
			t.Fatal(err)
		}
		e.auth(fresh)
		e.clock.Add(2 * time.Hour)
		if got := e.authCode(old); got != keyward.EUNAUTHORIZED {
			t.Fatalf("rotated-out token after its overlap: got %q, want unauthorized", got)
		}
		if got := e.authCode(fresh); got != keyward.EUNAUTHORIZED {
			t.Fatalf("regenerated head after reuse of its predecessor: got %q, want unauthorized (family revoked)", got)
		}
		got, err := e.svc.FindTokenByID(e.ctx, e.auth(e.boot.Secret), service.Personal, head.ID)
		if err != nil || got.State != keyward.StatusRevoked {
			t.Fatalf("head after reuse: got %v, %v; want revoked", got, err)
		}
	})
}
