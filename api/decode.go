package api

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/keyward/keyward"
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

// decode reads r's JSON body into v, strictly: Content-Type
// application/json (charset utf-8 at most), no Content-Encoding, at most
// maxBodyBytes, valid UTF-8, one JSON object and nothing after it, no
// member named twice and no unknown member. It uses go-json-experiment/json
// (JSON v2 semantics), which refuses duplicate names and invalid UTF-8 by
// itself (docs/decisions.md). Its errors never echo the body, which might
// hold a secret: 415 unsupported_media_type, 413 request_too_large, 408
// request_timeout, else 400 invalid_request.
func decode(w http.ResponseWriter, r *http.Request, v any, rule bodyRule) error {
	if err := checkEncoding(r); err != nil {
		return err
	}
	// A body declared empty needs no Content-Type; any other is checked
	// before it is read.
	if r.ContentLength != 0 {
		if err := checkContentType(r); err != nil {
			return err
		}
	}
	data, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if rule == bodyOptional {
			return nil
		}
		return keyward.Errorf(keyward.EINVALID, "request body is required: a JSON object")
	}
	return unmarshalStrict(data, v)
}

// unmarshalStrict decodes data, which is not empty, into v: one JSON
// object of v's members.
func unmarshalStrict(data []byte, v any) error {
	if !utf8.Valid(data) {
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body is not valid UTF-8")
	}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); trimmed[0] != '{' {
		// null, an array, a string: v2 would take null as the zero
		// request.
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body must be a JSON object")
	}
	dec := jsontext.NewDecoder(bytes.NewReader(data))
	if err := json.UnmarshalDecode(dec, v, json.RejectUnknownMembers(true)); err != nil {
		return invalidJSON(err, v)
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: more than one value in the body")
	}
	return nil
}

// checkEncoding refuses a compressed (or otherwise encoded) body: keyward
// reads only plain JSON, and a small compressed body can expand far past
// maxBodyBytes.
func checkEncoding(r *http.Request) error {
	if len(r.Header.Values("Content-Encoding")) > 0 {
		return &keyward.Error{Code: codeUnsupportedMediaType,
			Message: "request bodies may not have a Content-Encoding",
			Detail:  "send the JSON body uncompressed"}
	}
	return nil
}

// checkContentType wants application/json, with no parameter but
// charset=utf-8.
func checkContentType(r *http.Request) error {
	refused := &keyward.Error{Code: codeUnsupportedMediaType,
		Message: "the request body must be JSON, with Content-Type: application/json",
		Detail:  "the only parameter accepted is charset=utf-8"}
	ct := r.Header.Values("Content-Type")
	if len(ct) != 1 {
		return refused
	}
	mt, params, err := mime.ParseMediaType(ct[0])
	if err != nil || mt != "application/json" {
		return refused
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return refused
		}
	}
	return nil
}

// readBody reads the whole body, at most maxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errTooLarge()
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		return nil, bodyReadError(err)
	}
	return data, nil
}

func errTooLarge() error {
	return keyward.Errorf(codeRequestTooLarge, "request body is larger than %d KiB", maxBodyBytes>>10)
}

// bodyReadError names why a body could not be read: too large (413), too
// slow (408), or broken, such as a malformed chunked encoding or a client
// gone mid-body (400). None is the server's fault, so none is a 500 nor
// logged as an error; the request's own log line says what happened.
func bodyReadError(err error) error {
	var tooBig *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
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
	return bodyReadError(err)
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

// invalidJSON turns a decoding error into a message that names the place
// (by v's own field names) and the expected type, never a value nor a
// name the client sent.
func invalidJSON(err error, v any) error {
	var syntax *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: an object names one member twice")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: unexpected end of the body")
	case errors.As(err, &syntax):
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: syntax error at byte %d", syntax.ByteOffset)
	case errors.As(err, &sem):
		where := fieldPath(sem.JSONPointer, reflect.TypeOf(v))
		if errors.Is(err, json.ErrUnknownName) {
			if where == "" {
				return &keyward.Error{Code: keyward.EINVALID, Message: "invalid JSON: unknown field", Detail: knownFields(reflect.TypeOf(v))}
			}
			return keyward.Errorf(keyward.EINVALID, "invalid JSON: unknown field in %s", where)
		}
		if sem.GoType == reflect.TypeFor[time.Time]() {
			return keyward.Errorf(keyward.EINVALID, "invalid JSON: times must be RFC 3339, such as \"2030-01-02T15:04:05Z\"")
		}
		if where == "" {
			return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body does not match the expected object")
		}
		if sem.GoType == nil || sem.JSONKind == 0 {
			return keyward.Errorf(keyward.EINVALID, "invalid JSON: field %q is not valid", where)
		}
		return keyward.Errorf(keyward.EINVALID, "invalid JSON: field %q must be %s, not %s", where, jsonTypeName(sem.GoType), jsonKindName(sem.JSONKind))
	}
	return keyward.Errorf(keyward.EINVALID, "invalid JSON: the body does not match the expected object")
}

// fieldPath renders ptr with t's own names, as "scopes[0].entity_type":
// array indexes and the names of t's fields, never a name t lacks (a map
// key or an unknown member is the client's text and ends the path).
func fieldPath(ptr jsontext.Pointer, t reflect.Type) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil {
			break
		}
		switch t.Kind() {
		case reflect.Struct:
			f, ok := fieldByJSONName(t, tok)
			if !ok {
				return b.String()
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(tok)
			t = f.Type
		case reflect.Slice, reflect.Array:
			if _, err := strconv.Atoi(tok); err != nil {
				return b.String()
			}
			b.WriteString("[" + tok + "]")
			t = t.Elem()
		default:
			return b.String()
		}
	}
	return b.String()
}

// fieldByJSONName finds the field of struct type t whose JSON name is name.
func fieldByJSONName(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if n := jsonName(f); n != "" && n == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// jsonName is a field's JSON name, "" for an unexported or skipped one.
func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return ""
	}
	if name, _, _ := strings.Cut(tag, ","); name != "" {
		return name
	}
	return f.Name
}

// knownFields lists the members an object of type t takes, for the detail
// of an unknown-field error.
func knownFields(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	var names []string
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return "the fields are: " + strings.Join(names, ", ")
}

// jsonTypeName names a Go type as a JSON type.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return "an RFC 3339 time string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "an object"
}

// jsonKindName names the kind of a JSON value.
func jsonKindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "another kind"
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
