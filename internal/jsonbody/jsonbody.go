// Package jsonbody reads a request's JSON body strictly, for every front
// end that takes one (the API, OAuth's client registration), with
// go-json-experiment/json (JSON v2 semantics, which refuse a member named
// twice and invalid UTF-8 by themselves): Content-Type application/json
// (charset utf-8 at most), no Content-Encoding, at most a size, read in
// time, one JSON object and nothing after it. Each front end answers the
// Problem in its own words; nothing here echoes the body.
package jsonbody

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Problem is why a body was refused.
type Problem int

// The problems, in the order they are checked.
const (
	// Encoded: the body has a Content-Encoding (compressed, most often).
	Encoded Problem = iota + 1
	// NotJSON: its Content-Type is not application/json.
	NotJSON
	// TooLarge: it is larger than Options.Max.
	TooLarge
	// TooSlow: it did not arrive before the read deadline.
	TooSlow
	// Unreadable: it ended early, or its chunked encoding is broken.
	Unreadable
	// Empty: there is no body, and Options.AllowEmpty is not set.
	Empty
	// BadUTF8: it is not valid UTF-8.
	BadUTF8
	// NotObject: it is not a JSON object (null, an array, a string).
	NotObject
	// Invalid: the object does not decode into the value (Err says why).
	Invalid
	// Trailing: something follows the object.
	Trailing
)

// Error is a refused body.
type Error struct {
	Problem Problem
	// Err is the decoder's error, for Invalid.
	Err error
}

func (e *Error) Error() string { return "refused JSON body" }

// Options say what a body may be.
type Options struct {
	// Max is the largest body read, in bytes.
	Max int64
	// AllowEmpty takes an empty body as the zero value.
	AllowEmpty bool
	// AllowUnknown ignores members the value has no field for; without it
	// they are Invalid.
	AllowUnknown bool
}

// Read reads r's body into v, or returns an *Error. A body declared empty
// (Content-Length 0) needs no Content-Type.
func Read(w http.ResponseWriter, r *http.Request, v any, o Options) error {
	if len(r.Header.Values("Content-Encoding")) > 0 {
		return &Error{Problem: Encoded}
	}
	if r.ContentLength != 0 && !ContentTypeJSON(r.Header.Values("Content-Type")) {
		return &Error{Problem: NotJSON}
	}
	if r.ContentLength > o.Max {
		return &Error{Problem: TooLarge}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, o.Max))
	if err != nil {
		return &Error{Problem: ReadProblem(err)}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0 && o.AllowEmpty:
		return nil
	case len(trimmed) == 0:
		return &Error{Problem: Empty}
	case !utf8.Valid(data):
		return &Error{Problem: BadUTF8}
	case trimmed[0] != '{':
		// v2 would take null as the zero value.
		return &Error{Problem: NotObject}
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if err := json.UnmarshalDecode(dec, v, json.RejectUnknownMembers(!o.AllowUnknown)); err != nil {
		return &Error{Problem: Invalid, Err: err}
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return &Error{Problem: Trailing}
	}
	return nil
}

// ReadProblem is why reading a body failed with err: too large (of a
// http.MaxBytesReader), too slow, or unreadable. None is the server's
// fault.
func ReadProblem(err error) Problem {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return TooLarge
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return TooSlow
	}
	return Unreadable
}

// ContentTypeJSON accepts one Content-Type of application/json with no
// parameter but charset=utf-8.
func ContentTypeJSON(values []string) bool {
	if len(values) != 1 {
		return false
	}
	mt, params, err := mime.ParseMediaType(values[0])
	if err != nil || mt != "application/json" {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}
