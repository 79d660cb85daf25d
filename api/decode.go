package api

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/jsonbody"
	"github.com/keyward/keyward/internal/response"
	"github.com/keyward/keyward/service"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 64 << 10

// Codes of the body's refusals: the HTTP layer's, not the domain's.
const (
	codeUnsupportedMediaType = response.CodeUnsupportedMediaType
	codeRequestTooLarge      = response.CodeRequestTooLarge
	codeRequestTimeout       = response.CodeRequestTimeout
)

// bodyRule says whether a request body may be left out.
type bodyRule bool

const (
	bodyRequired bodyRule = false
	// bodyOptional: every field is optional, so an empty body is the zero
	// request.
	bodyOptional bodyRule = true
)

// decode reads r's JSON body into v, strictly (internal/jsonbody): no
// unknown member either. Its errors never echo the body, which might hold
// a secret: 415 unsupported_media_type, 413 request_too_large, 408
// request_timeout, else 400 invalid_request.
func decode(w http.ResponseWriter, r *http.Request, v any, rule bodyRule) error {
	err := jsonbody.Read(w, r, v, jsonbody.Options{Max: maxBodyBytes, AllowEmpty: rule == bodyOptional})
	var be *jsonbody.Error
	if !errors.As(err, &be) {
		return err
	}
	switch be.Problem {
	case jsonbody.Encoded:
		return &keyward.Error{Code: codeUnsupportedMediaType,
			Message: "request bodies may not have a Content-Encoding",
			Detail:  "send the JSON body uncompressed"}
	case jsonbody.NotJSON:
		return &keyward.Error{Code: codeUnsupportedMediaType,
			Message: "the request body must be JSON, with Content-Type: application/json",
			Detail:  "the only parameter accepted is charset=utf-8"}
	case jsonbody.Empty:
		return keyward.Errorf(keyward.EINVALID, "request body is required: a JSON object")
	case jsonbody.BadUTF8:
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body is not valid UTF-8")
	case jsonbody.NotObject:
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body must be a JSON object")
	case jsonbody.Invalid:
		msg, detail := jsonbody.Describe(be.Err, v)
		return &keyward.Error{Code: keyward.EINVALID, Message: msg, Detail: detail}
	case jsonbody.Trailing:
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: more than one value in the body")
	}
	return readError(be.Problem)
}

// readError names why a body could not be read: too large (413), too
// slow (408), or broken, such as a malformed chunked encoding or a client
// gone mid-body (400). None is the server's fault, so none is a 500 nor
// logged as an error; the request's own log line says what happened.
func readError(p jsonbody.Problem) error {
	switch p {
	case jsonbody.TooLarge:
		return keyward.Errorf(codeRequestTooLarge, "request body is larger than %d KiB", maxBodyBytes>>10)
	case jsonbody.TooSlow:
		return keyward.Errorf(codeRequestTimeout, "the request body did not arrive in time")
	}
	return keyward.Errorf(keyward.EINVALID, "the request body could not be read: it ended early or its chunked encoding is broken")
}

// refuseBody refuses a body on a route that takes none.
func refuseBody(r *http.Request) error {
	if r.ContentLength == 0 || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	refused := &keyward.Error{Code: keyward.EINVALID, Message: "this request takes no body",
		Detail: "send it without a body (and without Content-Type)"}
	if r.ContentLength > 0 {
		return refused
	}
	// Unknown length (chunked): an empty body is no body.
	var b [1]byte
	n, err := io.ReadFull(r.Body, b[:])
	switch {
	case n > 0:
		return refused
	case err == io.EOF:
		return nil
	}
	return readError(jsonbody.ReadProblem(err))
}

// bodyless makes h refuse a request body: h takes none.
func bodyless(h authedFunc) authedFunc {
	return func(w http.ResponseWriter, r *http.Request, c *service.Caller) error {
		if err := refuseBody(r); err != nil {
			return err
		}
		return h(w, r, c)
	}
}

// list.
func pageQuery(q url.Values) (limit int, cursor string, err error) {
	if s := q.Get("limit"); s != "" {
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n < 1 || n > keyward.MaxPageSize {
			return 0, "", keyward.Errorf(keyward.EINVALID, "limit must be a whole number from 1 to %d", keyward.MaxPageSize)
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}

// timeQuery reads an optional RFC 3339 time parameter.
func timeQuery(q url.Values, name string) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, keyward.Errorf(keyward.EINVALID, "%s must be an RFC 3339 time, such as 2030-01-02T15:04:05Z", name)
	}
	return t.UTC(), nil
}

// durationField reads an optional duration such as "7d", "12h" or "0" of a
// request field.
func durationField(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := keyward.ParseDuration(s)
	if err != nil {
		return 0, keyward.Errorf(keyward.EINVALID, "%s: want a duration such as \"0\", \"12h\" or \"7d\"", name)
	}
	return d, nil
}

// bodyless makes a handler of an unauthenticated route refuse a request
// body: h takes none.
func (s *server) bodyless(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := refuseBody(r); err != nil {
			s.error(w, r, err)
			return
		}
		h(w, r)
	}
}
