package oauth

import (
	"errors"
	"net/http"

	"github.com/keyward/keyward/internal/jsonbody"
	"github.com/keyward/keyward/service"
)

// bodyError is a refused JSON body: its status and OAuth error.
type bodyError struct {
	status int
	oauthError
}

// readJSON reads a registration's JSON body into v, as strictly as the
// API reads its bodies but for unknown members, which RFC 7591 section 2
// says to ignore: Content-Type application/json (charset utf-8 at most,
// else 415), no Content-Encoding (415), at most maxBody (413), read in
// time (408), valid UTF-8, one JSON object, no member named twice and
// nothing after it (400 invalid_client_metadata). No message echoes the
// body.
func readJSON(w http.ResponseWriter, r *http.Request, v any) *bodyError {
	refuse := func(status int, code, desc string) *bodyError {
		return &bodyError{status: status, oauthError: oauthError{Error: code, Description: desc}}
	}
	err := jsonbody.Read(w, r, v, jsonbody.Options{Max: maxBody, AllowUnknown: true})
	var be *jsonbody.Error
	if !errors.As(err, &be) {
		return nil
	}
	switch be.Problem {
	case jsonbody.Encoded:
		return refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body may not have a Content-Encoding")
	case jsonbody.NotJSON:
		return refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body must be Content-Type: application/json")
	case jsonbody.TooLarge:
		return refuse(http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
	case jsonbody.TooSlow:
		return refuse(http.StatusRequestTimeout, "invalid_request", "the body did not arrive in time")
	case jsonbody.Unreadable:
		return refuse(http.StatusBadRequest, "invalid_request", "the body could not be read")
	}
	return refuse(http.StatusBadRequest, service.OAuthInvalidClientMetadata, "the body must be one JSON object of client metadata: valid UTF-8, no member named twice, nothing after it")
}
