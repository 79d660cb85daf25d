package guard_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/guard"
)

// A resource server verifies with an org API key that holds
// tokens:verify, and guards each route with the permission it needs.
func Example() {
	kw := client.New("http://127.0.0.1:8080", "kw_key_...")
	g := guard.New(kw, guard.Options{TTL: 5 * time.Second})

	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, _ := guard.FromContext(r.Context())
		fmt.Fprintf(w, "monitors of org %s, for token %s\n", id.OrgID, id.TokenID)
	})
	mux := http.NewServeMux()
	mux.Handle("GET /v1/monitors", g.Authenticate(guard.RequirePermission("monitors:read")(list)))
	// The scopes of a token are checked by keyward for the monitor named.
	mux.Handle("GET /v1/monitors/{id}", g.Authenticate(g.RequireScope("monitor", "read",
		func(r *http.Request) string { return r.PathValue("id") })(list)))
	// Agent metrics are for agent tokens only.
	mux.Handle("POST /v1/agents/metrics", g.Authenticate(guard.RequireKind("agent")(guard.RequirePermission("agent:heartbeat")(list))))
	log.Fatal(http.ListenAndServe("127.0.0.1:8090", mux))
}

// A request without a token is refused before keyward is asked, with
// keyward's error body and the verdict's code.
func Example_refusal() {
	g := guard.New(client.New("http://127.0.0.1:8080", "kw_key_..."), guard.Options{})
	h := g.Authenticate(http.NotFoundHandler())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/v1/monitors", nil))
	fmt.Println(w.Code, w.Header().Get("X-Keyward-Code"))
	fmt.Print(w.Body.String())
	// Output:
	// 401 NOT_FOUND
	// {"error":true,"code":"unauthorized","status":401,"message":"missing credential","detail":"send 'Authorization: Bearer <token>' or 'X-API-Key: <token>'","verdict":"NOT_FOUND"}
}
