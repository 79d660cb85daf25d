package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Error is an error answer of the API: its body
// {"error": true, "message", "code", "status", "detail"}.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is the API's error code, such as "not_found" or "forbidden".
	Code string
	// Message says what went wrong.
	Message string
	// Detail optionally says more.
	Detail string
}

// Error implements the error interface: the message, its detail, and the
// code.
func (e *Error) Error() string {
	msg := e.Message
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Code != "" {
		return fmt.Sprintf("%s (%s)", msg, e.Code)
	}
	return fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
}

// ErrorCode returns the API error code of err if it is or wraps an *Error,
// and "" otherwise.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// readError turns a non-2xx answer into an *Error, from its JSON body when
// it has one, from its status otherwise.
func readError(resp *http.Response) *Error {
	e := &Error{Status: resp.StatusCode}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body ErrorBody
	if json.Unmarshal(b, &body) == nil && (body.Message != "" || body.Code != "") {
		e.Code, e.Message, e.Detail = body.Code, body.Message, body.Detail
		if body.Status != 0 {
			e.Status = body.Status
		}
	}
	if e.Message == "" {
		e.Message = strings.ToLower(http.StatusText(resp.StatusCode))
		if e.Message == "" {
			e.Message = "unexpected answer"
		}
		e.Message = fmt.Sprintf("server answered %d %s", resp.StatusCode, e.Message)
	}
	return e
}
