package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/api"
	"github.com/keyward/keyward/client"
)

// A panic answers 500 "internal error" and is logged with the request id,
// never shown.
func TestPanicRecovered(t *testing.T) {
	logs := &syncBuffer{}
	h := api.WithMiddleware(slog.New(slog.NewTextHandler(logs, nil)), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("secret internal detail")
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/boom", nil)
	req.Header.Set("X-Request-ID", "panic-1")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body client.ErrorBody
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	if resp.StatusCode != 500 || body.Code != "internal" || body.Message != "internal error" || !body.Error || body.Status != 500 {
		t.Errorf("got %d %s, want 500 with the internal error body", resp.StatusCode, b)
	}
	if strings.Contains(string(b), "secret internal detail") {
		t.Error("the answer shows the panic")
	}
	l := logs.String()
	if !strings.Contains(l, "secret internal detail") || !strings.Contains(l, "panic-1") || !strings.Contains(l, "status=500") {
		t.Errorf("the log lacks the panic, its request id or its status:\n%s", l)
	}
}
