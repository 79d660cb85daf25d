package oauth_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// registrations counts the clients registered so far, by their audit
// events.
func (e *env) registrations() int {
	e.t.Helper()
	var n int
	err := e.store.View(e.ctx, func(tx service.Tx) error {
		evs, _, err := tx.FindAudit(e.ctx, keyward.AuditFilter{Action: keyward.ActionOAuthClientRegistered, Limit: keyward.MaxPageSize})
		n = len(evs)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// Dynamic registration reads its body as strictly as the API: a body
// that is not plain JSON of one object is refused and registers nothing.
func TestRegisterStrictBody(t *testing.T) {
	e := newEnv(t)
	valid := `{"client_name":"Agent","redirect_uris":["` + callback + `"]}`
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.Bytes()
	}
	for _, tt := range []struct {
		name         string
		body         []byte
		ct, encoding string
		status       int
		code         string
	}{
		{"text/plain", []byte(valid), "text/plain", "", 415, "invalid_request"},
		{"no content type", []byte(valid), "", "", 415, "invalid_request"},
		{"form", []byte(valid), "application/x-www-form-urlencoded", "", 415, "invalid_request"},
		{"gzip", gz(valid), "application/json", "gzip", 415, "invalid_request"},
		{"oversized", []byte(valid + strings.Repeat(" ", 64<<10)), "application/json", "", 413, "invalid_request"},
		{"duplicate name", []byte(`{"client_name":"A","client_name":"B","redirect_uris":["` + callback + `"]}`), "application/json", "", 400, "invalid_client_metadata"},
		{"invalid UTF-8", []byte(`{"client_name":"A` + "\xff" + `","redirect_uris":["` + callback + `"]}`), "application/json", "", 400, "invalid_client_metadata"},
		{"null", []byte(`null`), "application/json", "", 400, "invalid_client_metadata"},
		{"trailing data", []byte(valid + ` {}`), "application/json; charset=utf-8", "", 400, "invalid_client_metadata"},
	} {
		before := e.registrations()
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/oauth/register", bytes.NewReader(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if tt.ct != "" {
			req.Header.Set("Content-Type", tt.ct)
		}
		if tt.encoding != "" {
			req.Header.Set("Content-Encoding", tt.encoding)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var got struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if resp.StatusCode != tt.status || json.Unmarshal(b, &got) != nil || got.Error != tt.code || got.Description == "" {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, resp.StatusCode, b, tt.status, tt.code)
		}
		if after := e.registrations(); after != before {
			t.Errorf("%s: registered a client", tt.name)
		}
	}
	// Unknown members are ignored (RFC 7591 section 2), and the valid body
	// registers.
	before := e.registrations()
	if status, body := e.postJSON("/oauth/register", map[string]any{"client_name": "Agent", "redirect_uris": []string{callback}, "logo_uri": "https://example.com/logo.png"}); status != http.StatusCreated {
		t.Errorf("a registration with an unknown member: got %d %v, want 201", status, body)
	}
	if e.registrations() != before+1 {
		t.Error("the valid registration was not counted")
	}
}
