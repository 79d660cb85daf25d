package service

import (
	"context"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// Sign-in throttling. Failed sign-ins are stored, so every node counts
// alike, under three keys: the address, the account from that address,
// and the account from anywhere. The first two refuse further attempts
// for a while; the third only slows attempts down, so that failures an
// attacker sends from elsewhere never lock the account's owner out.
const (
	// SignInWindow is the window over which failed sign-ins are counted.
	SignInWindow = 15 * time.Minute
	// MaxAccountAddressFailures failed sign-ins for one account from one
	// address within SignInWindow refuse further attempts for that account
	// from that address until the window passes; other addresses may still
	// sign in to it.
	MaxAccountAddressFailures = 5
	// MaxIPFailures failed sign-ins from one address within SignInWindow
	// refuse further attempts from it, for every account.
	MaxIPFailures = 20
	// SlowAccountFailures failed sign-ins for one account within
	// SignInWindow, from any addresses, make each further attempt for it
	// wait (see SignInDelay); it is never refused for them.
	SlowAccountFailures = 5
	// MaxSignInDelay bounds the wait SignInDelay gives an attempt.
	MaxSignInDelay = 4 * time.Second
	// signInDelayStep is the wait at SlowAccountFailures failures; it
	// doubles with each further failure up to MaxSignInDelay.
	signInDelayStep = 250 * time.Millisecond
)

// SignInDelay is how long an attempt to sign in to an account waits when
// the account has failed failures times within SignInWindow: nothing below
// SlowAccountFailures, then 250 ms doubling with each failure, at most
// MaxSignInDelay. The right password waits as long as a wrong one.
func SignInDelay(failures int) time.Duration {
	if failures < SlowAccountFailures {
		return 0
	}
	d := signInDelayStep
	for range failures - SlowAccountFailures {
		if d *= 2; d >= MaxSignInDelay {
			return MaxSignInDelay
		}
	}
	return d
}

// signInKeys are the keys a sign-in's failures are counted under.
type signInKeys struct {
	account string // the account from anywhere
	pair    string // the account from this address; "" without an address
	address string // this address, any account; "" without an address
}

func newSignInKeys(email, ip string) signInKeys {
	e := strings.ToLower(strings.TrimSpace(email))
	k := signInKeys{account: "email:" + e}
	if ip != "" {
		k.pair = "email-ip:" + e + "|" + ip
		k.address = "ip:" + ip
	}
	return k
}

// all is every key a failure is added under.
func (k signInKeys) all() []string {
	if k.address == "" {
		return []string{k.account}
	}
	return []string{k.account, k.pair, k.address}
}

// signInTooOften is the refusal for an address, or an account from an
// address, that has failed too often.
func signInTooOften() error {
	return &keyward.Error{Code: keyward.ERATELIMITED, Message: "too many failed sign-ins from this address; try again later",
		Detail: "sign-in from this address is paused for " + keyward.FormatDuration(SignInWindow) + " after repeated failures"}
}

// checkSignIn refuses a sign-in whose address, or account from that
// address, has failed too often since, and returns how long the attempt
// must wait for the account's failures from anywhere.
func checkSignIn(ctx context.Context, tx Tx, k signInKeys, since time.Time) (time.Duration, error) {
	if k.address != "" {
		for _, c := range []struct {
			key   string
			limit int
		}{{k.address, MaxIPFailures}, {k.pair, MaxAccountAddressFailures}} {
			n, err := tx.CountSignInFailures(ctx, c.key, since)
			if err != nil {
				return 0, err
			}
			if n >= c.limit {
				return 0, signInTooOften()
			}
		}
	}
	n, err := tx.CountSignInFailures(ctx, k.account, since)
	if err != nil {
		return 0, err
	}
	return SignInDelay(n), nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
