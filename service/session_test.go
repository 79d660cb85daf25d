package service_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

func TestSignInAndSessions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		email, pw := "owner@example.com", e.boot.Password
		_, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: email, Password: "wrong password!", IP: "192.0.2.1"})
		if code(err) != keyward.EUNAUTHORIZED {
			t.Fatalf("SignIn with a wrong password: got %v, want %s", err, keyward.EUNAUTHORIZED)
		}
		_, err2 := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "nobody@example.com", Password: pw, IP: "192.0.2.1"})
		if keyward.ErrorMessage(err2) != keyward.ErrorMessage(err) {
			t.Errorf("SignIn of an unknown email: got %q, want the same answer as a wrong password, %q", keyward.ErrorMessage(err2), keyward.ErrorMessage(err))
		}
		id, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "OWNER@example.com", Password: pw, IP: "192.0.2.1"})
		if err != nil {
			t.Fatalf("SignIn: %v", err)
		}
		st, err := e.svc.SessionCaller(e.ctx, id, "192.0.2.1", "test")
		if err != nil {
			t.Fatalf("SessionCaller: %v", err)
		}
		c := st.Caller
		if c == nil || c.User.Email != email || c.Org.ID != e.boot.Org.ID || c.Role != keyward.RoleOwner || c.Source != keyward.SourceDashboard {
			t.Fatalf("SessionCaller: got %+v, want the owner in Acme from the dashboard", c)
		}
		// The session caller goes through the same rules as the API.
		tok, _, err := e.svc.CreateToken(e.ctx, c, service.Personal, service.TokenRequest{Name: "from the dashboard"})
		if err != nil || tok.Source != keyward.SourceDashboard {
			t.Fatalf("CreateToken by a session: got %v, %v; want a token with source dashboard", tok, err)
		}

		// A new sign-in that names the old session ends it.
		id2, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: email, Password: pw, OldSession: id})
		if err != nil {
			t.Fatalf("second SignIn: %v", err)
		}
		if id2 == id {
			t.Fatal("SignIn gave the same session id twice")
		}
		if _, err := e.svc.SessionCaller(e.ctx, id, "", ""); code(err) != keyward.EUNAUTHORIZED {
			t.Errorf("SessionCaller of the replaced session: got %v, want %s", err, keyward.EUNAUTHORIZED)
		}
		// Sign-out ends the session.
		if err := e.svc.SignOut(e.ctx, id2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SessionCaller(e.ctx, id2, "", ""); code(err) != keyward.EUNAUTHORIZED {
			t.Errorf("SessionCaller after SignOut: got %v, want %s", err, keyward.EUNAUTHORIZED)
		}

		// Idle and absolute expiry.
		id3, _ := e.svc.SignIn(e.ctx, service.SignInRequest{Email: email, Password: pw})
		e.clock.Add(service.SessionIdle - time.Minute)
		if _, err := e.svc.SessionCaller(e.ctx, id3, "", ""); err != nil {
			t.Fatalf("SessionCaller within the idle time: %v", err)
		}
		e.clock.Add(service.SessionIdle - time.Minute) // used a minute in: still alive
		if _, err := e.svc.SessionCaller(e.ctx, id3, "", ""); err != nil {
			t.Fatalf("SessionCaller of a session in use: %v", err)
		}
		e.clock.Add(service.SessionIdle)
		if _, err := e.svc.SessionCaller(e.ctx, id3, "", ""); code(err) != keyward.EUNAUTHORIZED {
			t.Errorf("SessionCaller of an idle session: got %v, want %s", err, keyward.EUNAUTHORIZED)
		}
		id4, _ := e.svc.SignIn(e.ctx, service.SignInRequest{Email: email, Password: pw})
		for range 20 {
			e.clock.Add(11 * time.Hour)
			if _, err := e.svc.SessionCaller(e.ctx, id4, "", ""); err != nil {
				break
			}
		}
		if _, err := e.svc.SessionCaller(e.ctx, id4, "", ""); code(err) != keyward.EUNAUTHORIZED {
			t.Errorf("SessionCaller of a session older than %v: got %v, want %s", service.SessionMaxAge, err, keyward.EUNAUTHORIZED)
		}
	})
}

func TestSignInThrottled(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		email, pw := "owner@example.com", e.boot.Password
		signIn := func(pw, ip string) error {
			_, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: email, Password: pw, IP: ip})
			return err
		}
		// One address fails the account: that address is paused for it.
		for i := range service.MaxAccountAddressFailures {
			if err := signIn("not the password", "192.0.2.9"); code(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("failure %d: got %v, want %s", i+1, err, keyward.EUNAUTHORIZED)
			}
		}
		if err := signIn(pw, "192.0.2.9"); code(err) != keyward.ERATELIMITED {
			t.Fatalf("the right password from the failing address after %d failures: got %v, want %s", service.MaxAccountAddressFailures, err, keyward.ERATELIMITED)
		}
		// The owner, from another address, signs in: slowed, not refused.
		e.clock.Slept()
		if err := signIn(pw, "192.0.2.10"); err != nil {
			t.Fatalf("the right password from another address: %v", err)
		}
		if got := e.clock.Slept(); len(got) != 1 || got[0] != service.SignInDelay(service.MaxAccountAddressFailures) {
			t.Errorf("the wait before it: got %v, want [%v]", got, service.SignInDelay(service.MaxAccountAddressFailures))
		}
		// Her success ended the slow-down, not the failing address's pause.
		if err := signIn(pw, "192.0.2.11"); err != nil || len(e.clock.Slept()) != 0 {
			t.Errorf("a sign-in after the owner's: got %v and a wait, want none", err)
		}
		if err := signIn(pw, "192.0.2.9"); code(err) != keyward.ERATELIMITED {
			t.Errorf("the failing address after the owner's sign-in: got %v, want %s", err, keyward.ERATELIMITED)
		}
		e.clock.Add(service.SignInWindow + time.Second)
		if err := signIn(pw, "192.0.2.9"); err != nil {
			t.Fatalf("SignIn after the window: %v", err)
		}

		// Failures from many addresses, each below its limit, never lock
		// the account; each attempt waits longer, up to the bound.
		for i := range 3 * service.MaxAccountAddressFailures {
			ip := "203.0.113." + strconv.Itoa(1+i/(service.MaxAccountAddressFailures-1))
			if err := signIn("guess guess guess", ip); code(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("failure %d from %s: got %v, want %s", i+1, ip, err, keyward.EUNAUTHORIZED)
			}
		}
		e.clock.Slept()
		if err := signIn(pw, "198.51.100.9"); err != nil {
			t.Fatalf("the right password after failures from many addresses: %v", err)
		}
		if got := e.clock.Slept(); len(got) != 1 || got[0] <= 0 || got[0] > service.MaxSignInDelay {
			t.Errorf("the wait before it: got %v, want one wait in (0, %v]", got, service.MaxSignInDelay)
		}

		// Per address: many accounts from one address.
		for i := range service.MaxIPFailures {
			_, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "x" + strconv.Itoa(i) + "@example.com", Password: "guess guess guess", IP: "198.51.100.1"})
			if code(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("address failure %d: got %v, want %s", i+1, err, keyward.EUNAUTHORIZED)
			}
		}
		if err := signIn(pw, "198.51.100.1"); code(err) != keyward.ERATELIMITED {
			t.Errorf("SignIn from a throttled address: got %v, want %s", err, keyward.ERATELIMITED)
		}
		if err := signIn(pw, "198.51.100.2"); err != nil {
			t.Errorf("SignIn from another address: %v", err)
		}
	})
}

func TestSignInDelay(t *testing.T) {
	prev := time.Duration(0)
	for n := range 40 {
		d := service.SignInDelay(n)
		switch {
		case n < service.SlowAccountFailures && d != 0:
			t.Errorf("SignInDelay(%d) = %v, want none below %d failures", n, d, service.SlowAccountFailures)
		case n >= service.SlowAccountFailures && (d <= 0 || d > service.MaxSignInDelay || d < prev):
			t.Errorf("SignInDelay(%d) = %v, want a wait in (0, %v], not less than %v", n, d, service.MaxSignInDelay, prev)
		}
		prev = d
	}
	if service.SignInDelay(39) != service.MaxSignInDelay {
		t.Errorf("SignInDelay(39) = %v, want the bound %v", service.SignInDelay(39), service.MaxSignInDelay)
	}
}

func TestUseNonce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if err := e.svc.UseNonce(e.ctx, "abc"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.UseNonce(e.ctx, "abc"); code(err) != keyward.ECONFLICT {
			t.Errorf("UseNonce twice: got %v, want %s", err, keyward.ECONFLICT)
		}
		if err := e.svc.UseNonce(e.ctx, ""); code(err) != keyward.EINVALID {
			t.Errorf("UseNonce of nothing: got %v, want %s", err, keyward.EINVALID)
		}
	})
}
