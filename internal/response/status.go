package response

import (
	"net/http"

	"github.com/keyward/keyward"
)

// The error codes of the HTTP layer itself, beside the domain's: a
// method a path does not take, a body that is not JSON, too large, or too
// slow.
const (
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeRequestTooLarge      = "request_too_large"
	CodeRequestTimeout       = "request_timeout"
)

// statuses is the one table from error code to HTTP status, which every
// front end reads.
var statuses = map[string]int{
	keyward.EUNAUTHORIZED: http.StatusUnauthorized,
	keyward.EFORBIDDEN:    http.StatusForbidden,
	keyward.EIPNOTALLOWED: http.StatusForbidden,
	keyward.EPOWER:        http.StatusForbidden,
	keyward.ENOTFOUND:     http.StatusNotFound,
	keyward.EINVALID:      http.StatusBadRequest,
	keyward.ETOKENINURL:   http.StatusBadRequest,
	keyward.ECONFLICT:     http.StatusConflict,
	keyward.ERATELIMITED:  http.StatusTooManyRequests,
	keyward.EUNAVAILABLE:  http.StatusServiceUnavailable,
	keyward.EINTERNAL:     http.StatusInternalServerError,

	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeUnsupportedMediaType: http.StatusUnsupportedMediaType,
	CodeRequestTooLarge:      http.StatusRequestEntityTooLarge,
	CodeRequestTimeout:       http.StatusRequestTimeout,
}

// Status returns the HTTP status of an error code; ok is false for a code
// the table does not hold, which every front end answers as an internal
// error.
func Status(code string) (status int, ok bool) {
	status, ok = statuses[code]
	if !ok {
		return http.StatusInternalServerError, false
	}
	return status, true
}
