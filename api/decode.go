package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// maxBodyBytes bounds every request body.
const maxBodyBytes = 64 << 10

// bodyRule says whether a request body may be left out.
type bodyRule bool

const (
	bodyRequired bodyRule = false
	// bodyOptional: every field is optional, so an empty body is the zero
	// request.
	bodyOptional bodyRule = true
)

// decode reads r's JSON body into v: one object, no unknown fields, at
// most maxBodyBytes. Its errors are EINVALID and never echo values, which
// might be secrets.
func decode(w http.ResponseWriter, r *http.Request, v any, rule bodyRule) error {
	body := http.MaxBytesReader(w, r.Body, maxBodyBytes)
	data, err := io.ReadAll(body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return keyward.Errorf(keyward.EINVALID, "request body is larger than %d KiB", maxBodyBytes>>10)
		}
		return fmt.Errorf("reading the request body: %w", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if rule == bodyOptional {
			return nil
		}
		return keyward.Errorf(keyward.EINVALID, "request body is required: a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: more than one value in the body")
	}
	return nil
}

// invalidJSON turns a decoding error into a message that names the place
// and the expected type, never the value.
func invalidJSON(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var parse *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: syntax error at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: unexpected end of the body")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body must be a JSON object")
		}
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: field %q must be %s, not %s", typ.Field, jsonTypeName(typ.Type.String()), jsonKind(typ.Value))
	case errors.As(err, &parse):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: times must be RFC 3339, such as \"2030-01-02T15:04:05Z\"")
	}
	// The remaining errors of encoding/json ("unknown field", "invalid
	// character") hold field names and syntax, not values.
	var unknown string
	if _, e := fmt.Sscanf(err.Error(), "json: unknown field %q", &unknown); e == nil {
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: unknown field %q", unknown)
	}
	return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body does not match the expected object")
}

// jsonKind keeps the kind of a JSON value description ("number -5" is
// "number").
func jsonKind(desc string) string {
	kind, _, _ := strings.Cut(desc, " ")
	return kind
}

// jsonTypeName names a Go type as a JSON type.
func jsonTypeName(goType string) string {
	switch goType {
	case "string", "keyward.Kind", "keyward.Role":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "float64":
		return "a number"
	case "time.Time":
		return "an RFC 3339 time string"
	}
	if strings.HasPrefix(goType, "[]") {
		return "an array"
	}
	return "an object"
}

// pageQuery reads the ?limit= (1 to 200, default 50) and ?cursor= of a
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
