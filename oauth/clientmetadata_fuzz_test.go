package oauth

import (
	"context"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/service"
)

// FuzzClientMetadata serves a fuzzed Client ID Metadata Document (its
// "$ID" replaced by the document's own URL) and reads it as keyward
// does. A document that is read names its own URL, has 1 to 10 redirect
// URIs that registration would accept and a clean name; the id, a
// fuzzed URL, passes checkMetadataURL only when it is an https URL with
// a path and no user information, fragment or dot segments.
func FuzzClientMetadata(f *testing.F) {
	f.Add(`{"client_id":"$ID","client_name":"App","redirect_uris":["http://127.0.0.1/cb"]}`, "https://app.example/c.json")
	f.Add(`{"client_id":"$ID","redirect_uris":["https://a/b","https://a/c"],"token_endpoint_auth_method":"none"}`, "https://a/b/../c")
	f.Add(`{"client_id":"$ID","redirect_uris":[]}`, "https://u:p@a/c")
	f.Add(`{"client_id":"$ID","redirect_uris":["https://a/b"],"token_endpoint_auth_method":"private_key_jwt"}`, "https://a/#x")
	f.Add(`{"client_id":"other","redirect_uris":["https://a/b"]}`, "http://a/c")
	f.Add(`{"client_id":"$ID","client_name":"`+strings.Repeat("\u202e\x01", 200)+`","redirect_uris":["https://a/b"]}`, "https://a")
	f.Add(`[1,2]`, "https://[::1]:443/x")
	f.Add(`{"client_id":"$ID","redirect_uris":["https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b","https://a/b"]}`, "https:opaque")

	var doc atomic.Value
	doc.Store("")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(doc.Load().(string)))
	}))
	f.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	fetcher := newMetadataFetcher(true, roots)
	id := srv.URL + "/client.json"

	f.Fuzz(func(t *testing.T, document, rawID string) {
		if err := checkMetadataURL(rawID); err == nil {
			u, perr := url.Parse(rawID)
			if perr != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.Fragment != "" || strings.Contains(rawID, "#") || u.Path == "" || u.Path == "/" {
				t.Fatalf("checkMetadataURL accepted %q", rawID)
			}
			for _, seg := range strings.Split(u.Path, "/") {
				if seg == "." || seg == ".." {
					t.Fatalf("checkMetadataURL accepted %q, with a dot segment", rawID)
				}
			}
		}

		doc.Store(strings.ReplaceAll(document, "$ID", id))
		c, err := fetcher.read(context.Background(), id)
		if err != nil {
			if strings.Contains(err.Error(), "could not be fetched") || strings.Contains(err.Error(), "did not answer") {
				t.Fatalf("the test server failed: %v", err)
			}
			return
		}
		if c.ID != id || len(c.RedirectURIs) < 1 || len(c.RedirectURIs) > 10 {
			t.Fatalf("read %+v from %q", c, document)
		}
		for _, u := range c.RedirectURIs {
			if err := service.ValidateRedirectURI(u); err != nil {
				t.Fatalf("read a redirect URI %q that registration refuses: %v", u, err)
			}
		}
		if c.Name != service.CleanClientName(c.Name) {
			t.Fatalf("the name %q is not clean: cleaning it again gives %q", c.Name, service.CleanClientName(c.Name))
		}
	})
}
