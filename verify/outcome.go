package verify

import (
	"net/http"

	"github.com/keyward/keyward"
)

// Code is the outcome of a verification.
type Code uint8

// The outcomes of a verification. The cache reaches those from Valid to
// IPNotAllowed, in the order it checks them; the rest are reached by the
// service for what a request asks beyond a valid token.
const (
	// Valid: the token may be used.
	Valid Code = iota
	// Malformed: the string is not a keyward token of this installation
	// (prefix, length, alphabet or checksum); nothing was looked up.
	Malformed
	// NotFound: no token hashes to the string (or it is another org's,
	// where the question is pinned to one).
	NotFound
	// Revoked: the token was revoked.
	Revoked
	// Expired: the token's validity ended.
	Expired
	// Reused: a token rotated out is used after its overlap; the caller
	// should revoke its whole family (see Verdict.Token).
	Reused
	// Blocked: the owner is suspended in the org, or the token breaks the
	// org's policy (Verdict.Reason says which). It lasts while that does.
	Blocked
	// NotMember: the owner of a personal token is no longer a member of
	// its org.
	NotMember
	// IPNotAllowed: the token may not be used from the address given.
	IPNotAllowed
	// KindNotAdmitted: the token's kind is not admitted where it is used.
	KindNotAdmitted
	// MissingPermission: the token lacks the permission asked.
	MissingPermission
	// OutOfScope: the token's entity scopes do not allow the operation.
	OutOfScope
	// RouteNotAdmitted: no rule of the forward-auth route policy admits
	// the request.
	RouteNotAdmitted
	// RateLimited: the token has spent its rate limit.
	RateLimited

	numCodes
)

// Outcome is what keyward answers for one code, the same through every
// front end (the API's errors, /v1/verify, /v1/auth, the dashboard, MCP).
type Outcome struct {
	// Name is the code of /v1/verify and of X-Keyward-Code.
	Name string
	// Error is the error code of a request the outcome refuses; "" for
	// Valid.
	Error string
	// Status is the HTTP status of such a request.
	Status int
	// Message says what happened, for people; the verdict's detail, when
	// it has one, says more.
	Message string
}

// outcomes is the one table of codes, read by Code's methods.
var outcomes = [numCodes]Outcome{
	Valid:             {"VALID", "", http.StatusOK, "valid"},
	Malformed:         {"NOT_FOUND", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "invalid token"},
	NotFound:          {"NOT_FOUND", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "invalid token"},
	Revoked:           {"REVOKED", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "token has been revoked"},
	Expired:           {"EXPIRED", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "token has expired"},
	Reused:            {"EXPIRED", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "token was rotated out; reuse detected, every token of its family is revoked"},
	Blocked:           {"BLOCKED", keyward.EFORBIDDEN, http.StatusForbidden, "token is blocked"},
	NotMember:         {"REVOKED", keyward.EUNAUTHORIZED, http.StatusUnauthorized, "token owner is no longer a member"},
	IPNotAllowed:      {"IP_NOT_ALLOWED", keyward.EIPNOTALLOWED, http.StatusForbidden, "token may not be used from this address"},
	KindNotAdmitted:   {"FORBIDDEN", keyward.EFORBIDDEN, http.StatusForbidden, "this kind of token is not admitted here"},
	MissingPermission: {"INSUFFICIENT_PERMISSIONS", keyward.EFORBIDDEN, http.StatusForbidden, "missing permission"},
	OutOfScope:        {"FORBIDDEN", keyward.EFORBIDDEN, http.StatusForbidden, "the token's scopes do not allow this"},
	RouteNotAdmitted:  {"FORBIDDEN", keyward.EFORBIDDEN, http.StatusForbidden, "no route rule admits this request"},
	RateLimited:       {"RATE_LIMITED", keyward.ERATELIMITED, http.StatusTooManyRequests, "rate limit exceeded"},
}

// Codes lists every code, in order.
var Codes = func() []Code {
	out := make([]Code, numCodes)
	for i := range out {
		out[i] = Code(i)
	}
	return out
}()

// Outcome returns what keyward answers for c.
func (c Code) Outcome() Outcome {
	if c >= numCodes {
		return Outcome{"UNKNOWN", keyward.EINTERNAL, http.StatusInternalServerError, "unknown verification outcome"}
	}
	return outcomes[c]
}

// String returns the code as /v1/verify names it.
func (c Code) String() string { return c.Outcome().Name }

// Err returns the error that refuses a request for c, with detail (what
// the table's message leaves out: which permission, which address; ""
// for none); nil for Valid.
func (c Code) Err(detail string) error {
	if c == Valid {
		return nil
	}
	o := c.Outcome()
	return &keyward.Error{Code: o.Error, Message: o.Message, Detail: detail}
}

// Message is the table's message with detail after it, for answers that
// carry one string.
func (c Code) Message(detail string) string {
	if detail == "" {
		return c.Outcome().Message
	}
	return c.Outcome().Message + ": " + detail
}
