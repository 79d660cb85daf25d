package oauth

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
	if len(r.Header.Values("Content-Encoding")) > 0 {
		return refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body may not have a Content-Encoding")
	}
	if !jsonContentType(r.Header.Values("Content-Type")) {
		return refuse(http.StatusUnsupportedMediaType, "invalid_request", "the body must be Content-Type: application/json")
	}
	if r.ContentLength > maxBody {
		return refuse(http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		var netErr net.Error
		switch {
		case errors.As(err, &tooBig):
			return refuse(http.StatusRequestEntityTooLarge, "invalid_request", "the body is larger than 64 KiB")
		case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
			return refuse(http.StatusRequestTimeout, "invalid_request", "the body did not arrive in time")
		}
		return refuse(http.StatusBadRequest, "invalid_request", "the body could not be read")
	}
	bad := refuse(http.StatusBadRequest, service.OAuthInvalidClientMetadata, "the body must be one JSON object of client metadata: valid UTF-8, no member named twice, nothing after it")
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); !utf8.Valid(data) || len(trimmed) == 0 || trimmed[0] != '{' {
		return bad
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if err := json.UnmarshalDecode(dec, v); err != nil {
		return bad
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return bad
	}
	return nil
}

// jsonContentType accepts one Content-Type of application/json with no
// parameter but charset=utf-8.
func jsonContentType(values []string) bool {
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
