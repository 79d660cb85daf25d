package keyward

import (
	"errors"
	"fmt"
)

// Error codes shared by every interface of keyward. Each maps to one HTTP
// status in the api package; the CLI and MCP print them as they are.
const (
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	EINVALID      = "invalid_request"
	ECONFLICT     = "conflict"
	ERATELIMITED  = "rate_limited"
	ETOKENINURL   = "token_in_url"
	EIPNOTALLOWED = "ip_not_allowed"
	// EPOWER refuses an action whose result would have more power than
	// the caller: a secret, role, permission, scope, allowlist, expiry or
	// rate limit beyond the caller's own (see Power).
	EPOWER       = "power_exceeded"
	EINTERNAL    = "internal"
	EUNAVAILABLE = "unavailable"
)

// Error is an error a user may see: a code from the list above and a
// message written for people. Its text never holds a secret.
type Error struct {
	// Code is one of the E* constants.
	Code string
	// Message says what went wrong, for the person who caused it.
	Message string
	// Detail optionally adds what would help to fix it.
	Detail string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, and
// "internal error" for any other error so that internal text never leaks.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorDetail returns the detail of the first *Error in err's chain, if any.
func ErrorDetail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Detail
	}
	return ""
}

// ErrNotFound is the one answer for a thing that does not exist or that the
// caller may not see: the two are indistinguishable by design.
func ErrNotFound(what string) *Error {
	return Errorf(ENOTFOUND, "%s not found", what)
}
