package embedded_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/guard"
	"github.com/keyward/keyward/guard/embedded"
	"github.com/keyward/keyward/internal/keywardtest"
	"github.com/keyward/keyward/service"
)

// A resource server that shares keyward's database verifies without
// HTTP, and sees a revocation made by the keyward server through the
// change feed.
func TestEmbedded(t *testing.T) {
	for _, backend := range keywardtest.Backends {
		t.Run(backend, func(t *testing.T) {
			open := keywardtest.Database(t, backend)
			kw := keywardtest.StartOn(t, open(t))
			svc, err := service.New(open(t), service.Options{ProductPermissions: keywardtest.Permissions})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			const poll = 20 * time.Millisecond
			done, err := svc.Follow(ctx, service.FollowOptions{Poll: poll})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cancel(); <-done; _ = svc.Close(context.Background()) })

			g := guard.New(embedded.New(svc, ""), guard.Options{TTL: -1})
			h := g.Authenticate(guard.RequirePermission("monitors:write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				id, _ := guard.FromContext(r.Context())
				_ = json.NewEncoder(w).Encode(id)
			})))
			call := func(tok string) (int, string) {
				w := httptest.NewRecorder()
				r := httptest.NewRequest("POST", "/monitors", nil)
				r.Header.Set("Authorization", "Bearer "+tok)
				h.ServeHTTP(w, r)
				return w.Code, w.Header().Get(guard.HeaderCode)
			}
			member := kw.Member(t, "member@example.com", keyward.RoleMember)
			viewer := kw.Member(t, "viewer@example.com", keyward.RoleViewer)
			if code, _ := call(member); code != 200 {
				t.Fatalf("member: got %d", code)
			}
			if code, v := call(viewer); code != 403 || v != "INSUFFICIENT_PERMISSIONS" {
				t.Errorf("viewer: got %d %s", code, v)
			}
			if code, v := call("kw_pat_nothing"); code != 401 || v != "NOT_FOUND" {
				t.Errorf("unknown: got %d %s", code, v)
			}
			key := kw.Key(t, client.TokenRequest{Name: "writer", Role: "member"})
			if code, _ := call(key.Secret); code != 200 {
				t.Fatalf("key before revocation: got %d", code)
			}
			kw.Revoke(t, kw.Client(kw.Owner).Keys(keywardtest.Org), key.Token.ID)
			for deadline := time.Now().Add(250 * poll); ; time.Sleep(poll / 2) {
				code, v := call(key.Secret)
				if code == 401 && v == "REVOKED" {
					break
				}
				if code != 200 || time.Now().After(deadline) {
					t.Fatalf("revoked key: got %d %s after %v (feed polled every %v)", code, v, 250*poll, poll)
				}
			}
		})
	}
}
