package jsonbody

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Describe says what is wrong with a body that is Invalid for v: a message
// that names the place (by v's own field names) and the expected type,
// never a value nor a name the client sent, and optionally a detail.
func Describe(err error, v any) (message, detail string) {
	var syntax *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.Is(err, jsontext.ErrDuplicateName):
		return "invalid JSON: an object names one member twice", ""
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "invalid JSON: unexpected end of the body", ""
	case errors.As(err, &syntax):
		return fmt.Sprintf("invalid JSON: syntax error at byte %d", syntax.ByteOffset), ""
	case errors.As(err, &sem):
		where := fieldPath(sem.JSONPointer, reflect.TypeOf(v))
		if errors.Is(err, json.ErrUnknownName) {
			if where == "" {
				return "invalid JSON: unknown field", knownFields(reflect.TypeOf(v))
			}
			return fmt.Sprintf("invalid JSON: unknown field in %s", where), ""
		}
		if sem.GoType == reflect.TypeFor[time.Time]() {
			return "invalid JSON: times must be RFC 3339, such as \"2030-01-02T15:04:05Z\"", ""
		}
		if where == "" {
			return "invalid JSON: the body does not match the expected object", ""
		}
		if sem.GoType == nil || sem.JSONKind == 0 {
			return fmt.Sprintf("invalid JSON: field %q is not valid", where), ""
		}
		return fmt.Sprintf("invalid JSON: field %q must be %s, not %s", where, jsonTypeName(sem.GoType), jsonKindName(sem.JSONKind)), ""
	}
	return "invalid JSON: the body does not match the expected object", ""
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
