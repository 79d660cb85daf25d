package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/keyward/keyward"
)

// Dashboard sessions (sign-in throttling is in signinthrottle.go).
const (
	// SessionIdle ends a session that has not been used for this long.
	SessionIdle = 12 * time.Hour
	// SessionMaxAge ends a session this long after sign-in, however active.
	SessionMaxAge = 7 * 24 * time.Hour
	// sessionTouch is how stale a session's last-seen time may grow before
	// a request writes it again.
	sessionTouch = time.Minute
	// PasswordLinkTTL is how long a set-password link stays valid.
	PasswordLinkTTL = 7 * 24 * time.Hour
	// nonceTTL is how long a used one-time form nonce is remembered.
	nonceTTL = 24 * time.Hour
)

// SignInRequest is a person signing in to the dashboard.
type SignInRequest struct {
	Email    string
	Password string
	// IP and UserAgent are the client's, for throttling and the session.
	IP        string
	UserAgent string
	// OldSession is the session id the browser held before, if any: it is
	// ended, so that every sign-in starts a fresh session id.
	OldSession string
}

// SessionOrg is one org of a signed-in person, for the org switcher.
type SessionOrg struct {
	Org       *keyward.Org
	Role      keyward.Role
	Suspended bool
}

// SessionState is what a session id stands for at the time of a request.
type SessionState struct {
	Session *keyward.Session
	User    *keyward.User
	// Orgs are every org the person belongs to, oldest membership first.
	Orgs []SessionOrg
	// Current is the org the person acts in, nil when they belong to none.
	Current *SessionOrg
	// Caller acts for the person in Current with their current role; nil
	// when they belong to no org or are suspended in Current.
	Caller *Caller
}

// newSecret returns 256 random bits, base64url-encoded without padding.
func newSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("keyward: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// dummyHash is checked against when no account matches, so that a wrong
// email costs the same time as a wrong password.
var dummyHash = sync.OnceValue(func() string {
	h, err := HashPassword(newSecret())
	if err != nil {
		panic(err)
	}
	return h
})

// SignIn checks a person's email and password and starts a session. It
// returns the new session id, which only the browser keeps.
//
// Returns EUNAUTHORIZED for a wrong email or password (the same answer for
// both), and ERATELIMITED when the address, or the account from the
// address, has failed too often within SignInWindow. An account that has
// failed often from anywhere is slowed down (SignInDelay), never refused.
func (s *Service) SignIn(ctx context.Context, req SignInRequest) (string, error) {
	now := s.Now()
	since := now.Add(-SignInWindow)
	keys := newSignInKeys(req.Email, req.IP)
	var user *keyward.User
	var orgID string
	var wait time.Duration
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if wait, err = checkSignIn(ctx, tx, keys, since); err != nil {
			return err
		}
		u, err := tx.FindUserByEmail(ctx, strings.TrimSpace(req.Email))
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		user = u
		ms, err := tx.FindMemberships(ctx, "", u.ID, "", 0)
		if err != nil {
			return err
		}
		// Start in the first org the person may act in.
		for _, m := range ms {
			if !m.Suspended {
				orgID = m.OrgID
				break
			}
		}
		if orgID == "" && len(ms) > 0 {
			orgID = ms[0].OrgID
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if wait > 0 {
		if err := s.sleep(ctx, wait); err != nil {
			return "", err
		}
	}
	hash := dummyHash()
	if user != nil && user.PasswordHash != "" {
		hash = user.PasswordHash
	}
	ok := CheckPassword(hash, req.Password) && user != nil && user.PasswordHash != ""
	if !ok {
		err := s.store.Update(ctx, func(tx Tx) error {
			for _, k := range keys.all() {
				if err := tx.AddSignInFailure(ctx, k, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return "", err
		}
		return "", keyward.Errorf(keyward.EUNAUTHORIZED, "wrong email or password")
	}
	id := newSecret()
	sess := &keyward.Session{
		Hash: keyward.HashToken(id), UserID: user.ID, OrgID: orgID,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(SessionMaxAge),
		IP: req.IP, UserAgent: clip(req.UserAgent, 500),
	}
	err = s.store.Update(ctx, func(tx Tx) error {
		if req.OldSession != "" {
			if err := tx.DeleteSession(ctx, keyward.HashToken(req.OldSession)); err != nil {
				return err
			}
		}
		// The owner's own success ends the slow-down and their address's
		// count for the account; the address's count for other accounts
		// stays.
		for _, k := range []string{keys.account, keys.pair} {
			if k == "" {
				continue
			}
			if err := tx.ClearSignInFailures(ctx, k); err != nil {
				return err
			}
		}
		if err := tx.PruneAuth(ctx, now, now.Add(-SessionIdle), since); err != nil {
			return err
		}
		return tx.CreateSession(ctx, sess)
	})
	if err != nil {
		return "", err
	}
	return id, nil
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// SignOut ends the session id names; ending an unknown one succeeds.
func (s *Service) SignOut(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.store.Update(ctx, func(tx Tx) error { return tx.DeleteSession(ctx, keyward.HashToken(id)) })
}

// SessionCaller returns what session id stands for now: the person, their
// orgs, and a Caller that acts in the session's org with the person's
// current role there and the source "dashboard". A session idle for
// SessionIdle or older than SessionMaxAge is ended.
//
// Returns EUNAUTHORIZED for an unknown, ended or expired session.
func (s *Service) SessionCaller(ctx context.Context, id, ip, userAgent string) (*SessionState, error) {
	if id == "" {
		return nil, keyward.Errorf(keyward.EUNAUTHORIZED, "not signed in")
	}
	h := keyward.HashToken(id)
	now := s.Now()
	st := &SessionState{}
	expired := false
	err := s.store.View(ctx, func(tx Tx) error {
		sess, err := tx.FindSession(ctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return keyward.Errorf(keyward.EUNAUTHORIZED, "not signed in")
		} else if err != nil {
			return err
		}
		if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= SessionIdle {
			expired = true
			return nil
		}
		st.Session = sess
		if st.User, err = tx.FindUserByID(ctx, sess.UserID); err != nil {
			return err
		}
		ms, err := tx.FindMemberships(ctx, "", sess.UserID, "", 0)
		if err != nil {
			return err
		}
		for _, m := range ms {
			o, err := tx.FindOrgByID(ctx, m.OrgID)
			if err != nil {
				return err
			}
			st.Orgs = append(st.Orgs, SessionOrg{Org: o, Role: m.Role, Suspended: m.Suspended})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if expired {
		if err := s.SignOut(ctx, id); err != nil {
			return nil, err
		}
		return nil, keyward.Errorf(keyward.EUNAUTHORIZED, "your session has expired; sign in again")
	}
	for i := range st.Orgs {
		if st.Orgs[i].Org.ID == st.Session.OrgID {
			st.Current = &st.Orgs[i]
		}
	}
	if st.Current == nil && len(st.Orgs) > 0 {
		st.Current = &st.Orgs[0]
	}
	orgID := ""
	if st.Current != nil {
		orgID = st.Current.Org.ID
	}
	if orgID != st.Session.OrgID || now.Sub(st.Session.LastSeenAt) >= sessionTouch {
		st.Session.OrgID, st.Session.LastSeenAt = orgID, now
		err := s.store.Update(ctx, func(tx Tx) error { return tx.UpdateSession(ctx, st.Session) })
		if err != nil && keyward.ErrorCode(err) != keyward.ENOTFOUND {
			return nil, err
		}
	}
	if st.Current != nil && !st.Current.Suspended {
		st.Caller = &Caller{
			User: st.User, Org: st.Current.Org, Role: st.Current.Role,
			Permissions: s.perms.ForRole(st.Current.Role),
			IP:          ip, UserAgent: clip(userAgent, 500),
			Source: keyward.SourceDashboard,
		}
	}
	return st, nil
}

// SwitchOrg makes the session act in org (an id or slug) from its next
// request. Returns ENOTFOUND if the person is not a member of it.
func (s *Service) SwitchOrg(ctx context.Context, id, orgRef string) error {
	h := keyward.HashToken(id)
	return s.store.Update(ctx, func(tx Tx) error {
		sess, err := tx.FindSession(ctx, h)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return keyward.Errorf(keyward.EUNAUTHORIZED, "not signed in")
		} else if err != nil {
			return err
		}
		org, err := findOrg(ctx, tx, orgRef)
		if keyward.ErrorCode(err) == keyward.ENOTFOUND {
			return keyward.ErrNotFound("org")
		} else if err != nil {
			return err
		}
		if _, err := tx.FindMembership(ctx, org.ID, sess.UserID); err != nil {
			if keyward.ErrorCode(err) == keyward.ENOTFOUND {
				return keyward.ErrNotFound("org")
			}
			return err
		}
		sess.OrgID, sess.LastSeenAt = org.ID, s.Now()
		return tx.UpdateSession(ctx, sess)
	})
}

// newPasswordLink stores a one-time set-password link for user in tx and
// returns its token.
func (s *Service) newPasswordLink(ctx context.Context, tx Tx, userID string) (string, error) {
	token := newSecret()
	now := s.Now()
	err := tx.CreatePasswordLink(ctx, &keyward.PasswordLink{
		Hash: keyward.HashToken(token), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(PasswordLinkTTL),
	})
	return token, err
}

// errBadLink is the one answer for a set-password link that is unknown,
// used or expired.
func errBadLink() error {
	return &keyward.Error{Code: keyward.ENOTFOUND, Message: "this set-password link is invalid, used or expired",
		Detail: "ask an admin of your org for a new one"}
}

// findLink returns the live link token names and its user.
func (s *Service) findLink(ctx context.Context, tx Tx, token string) (*keyward.User, error) {
	l, err := tx.FindPasswordLink(ctx, keyward.HashToken(token))
	if keyward.ErrorCode(err) == keyward.ENOTFOUND {
		return nil, errBadLink()
	} else if err != nil {
		return nil, err
	}
	if !s.Now().Before(l.ExpiresAt) {
		return nil, errBadLink()
	}
	return tx.FindUserByID(ctx, l.UserID)
}

// PasswordLinkUser returns the user a live set-password link is for.
// Returns ENOTFOUND for an unknown, used or expired link.
func (s *Service) PasswordLinkUser(ctx context.Context, token string) (*keyward.User, error) {
	var u *keyward.User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		u, err = s.findLink(ctx, tx, token)
		return err
	})
	return u, err
}

// SetPassword sets the password of the user a set-password link is for,
// uses up every link of that user and ends their sessions. Returns
// ENOTFOUND for an unknown, used or expired link and EINVALID for a
// password that is too short.
func (s *Service) SetPassword(ctx context.Context, token, password string) (*keyward.User, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var u *keyward.User
	err = s.store.Update(ctx, func(tx Tx) error {
		if u, err = s.findLink(ctx, tx, token); err != nil {
			return err
		}
		u.PasswordHash = hash
		if err := tx.UpdateUser(ctx, u); err != nil {
			return err
		}
		if err := tx.DeleteUserPasswordLinks(ctx, u.ID); err != nil {
			return err
		}
		return tx.DeleteUserSessions(ctx, u.ID)
	})
	return u, err
}

// UseNonce uses up a one-time form nonce, so that a form that mints or
// regenerates a secret cannot be sent twice (as a reload would). Returns
// ECONFLICT if it was used before.
func (s *Service) UseNonce(ctx context.Context, nonce string) error {
	if nonce == "" {
		return invalid("this form has no one-time nonce; reload the page and try again")
	}
	return s.store.Update(ctx, func(tx Tx) error {
		err := tx.UseNonce(ctx, keyward.HashToken("nonce:"+nonce), s.Now().Add(nonceTTL))
		if keyward.ErrorCode(err) == keyward.ECONFLICT {
			return keyward.Errorf(keyward.ECONFLICT, "this form was already sent")
		}
		return err
	})
}
