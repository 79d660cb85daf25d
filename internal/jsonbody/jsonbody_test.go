package jsonbody_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/jsonbody"
)

// Each refusal is its own Problem; a good body decodes.
func TestRead(t *testing.T) {
	type req struct {
		Name string `json:"name"`
	}
	for _, c := range []struct {
		name, ct, enc, body string
		opts                jsonbody.Options
		want                jsonbody.Problem
	}{
		{"good", "application/json; charset=utf-8", "", `{"name":"a"}`, jsonbody.Options{Max: 64}, 0},
		{"encoded", "application/json", "gzip", `{}`, jsonbody.Options{Max: 64}, jsonbody.Encoded},
		{"form", "application/x-www-form-urlencoded", "", `name=a`, jsonbody.Options{Max: 64}, jsonbody.NotJSON},
		{"large", "application/json", "", `{"name":"` + strings.Repeat("a", 100) + `"}`, jsonbody.Options{Max: 64}, jsonbody.TooLarge},
		{"empty", "application/json", "", ``, jsonbody.Options{Max: 64}, jsonbody.Empty},
		{"empty allowed", "application/json", "", `  `, jsonbody.Options{Max: 64, AllowEmpty: true}, 0},
		{"utf8", "application/json", "", "{\"name\":\"\xff\"}", jsonbody.Options{Max: 64}, jsonbody.BadUTF8},
		{"null", "application/json", "", `null`, jsonbody.Options{Max: 64}, jsonbody.NotObject},
		{"twice", "application/json", "", `{"name":"a","name":"b"}`, jsonbody.Options{Max: 64}, jsonbody.Invalid},
		{"unknown", "application/json", "", `{"nope":1}`, jsonbody.Options{Max: 64}, jsonbody.Invalid},
		{"unknown allowed", "application/json", "", `{"nope":1}`, jsonbody.Options{Max: 64, AllowUnknown: true}, 0},
		{"trailing", "application/json", "", `{} {}`, jsonbody.Options{Max: 64}, jsonbody.Trailing},
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(c.body))
		r.Header.Set("Content-Type", c.ct)
		if c.enc != "" {
			r.Header.Set("Content-Encoding", c.enc)
		}
		var v req
		err := jsonbody.Read(httptest.NewRecorder(), r, &v, c.opts)
		var be *jsonbody.Error
		switch {
		case c.want == 0 && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != 0 && (!errors.As(err, &be) || be.Problem != c.want):
			t.Errorf("%s: got %v, want problem %d", c.name, err, c.want)
		case c.want == jsonbody.Invalid:
			if msg, _ := jsonbody.Describe(be.Err, &v); strings.Contains(msg, "nope") || msg == "" {
				t.Errorf("%s: Describe gives %q, want a message without the client's name", c.name, msg)
			}
		}
	}
}
