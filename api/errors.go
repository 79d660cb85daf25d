package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/response"
)

// codeMethodNotAllowed is the code of a 405: the path exists, the method
// does not.
const codeMethodNotAllowed = response.CodeMethodNotAllowed

// StatusOf returns the HTTP status of an error code, from the table every
// front end reads (internal/response); unknown codes are internal errors.
func StatusOf(code string) int {
	status, _ := response.Status(code)
	return status
}

// Values of WWW-Authenticate on a 401. A request that presented no
// credential at all gets the bare challenge (RFC 6750 section 3.1: no error
// code when the request lacks authentication); every other 401 says the
// token was not accepted.
const (
	challengeMissing = `Bearer realm="keyward"`
	challengeInvalid = `Bearer realm="keyward", error="invalid_token"`
)

// error writes err as the error body. It is the one writer of every error
// answer. Errors without a keyward code are internal: they are logged with
// the request id and answered "internal error", never with their text.
func (s *server) error(w http.ResponseWriter, r *http.Request, err error) {
	code := keyward.ErrorCode(err)
	status := StatusOf(code)
	body := client.ErrorBody{
		Error:   true,
		Message: keyward.ErrorMessage(err),
		Code:    code,
		Status:  status,
		Detail:  keyward.ErrorDetail(err),
	}
	if status == http.StatusInternalServerError {
		msg, level := "internal error", slog.LevelError
		if errors.Is(err, context.Canceled) {
			msg, level = "request cancelled", slog.LevelWarn
		}
		s.log.LogAttrs(r.Context(), level, msg,
			slog.String("request_id", requestIDFrom(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", s.redactPath(r.URL.Path)),
			slog.String("err", err.Error()))
		body.Code, body.Message, body.Detail = keyward.EINTERNAL, "internal error", ""
	}
	// Every error carries the security headers, also on routes served
	// without their middleware (see authChain).
	response.SetSecurityHeaders(w.Header())
	response.SetRetryAfter(w.Header(), status)
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", challengeInvalid)
	}
	s.writeJSON(w, r, status, body)
}
