package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Limits on fetching a Client ID Metadata Document.
const (
	metadataTimeout  = 5 * time.Second
	metadataMaxBytes = 64 << 10
	metadataCacheTTL = 5 * time.Minute
	// A failure is remembered for a little while too, so that a stream
	// of authorization requests cannot turn keyward into a stream of
	// fetches.
	metadataFailureTTL = 30 * time.Second
	metadataCacheSize  = 512
)

// metadataFetcher reads Client ID Metadata Documents: a client whose id
// is an https URL describes itself in the JSON document at that URL. It
// connects only to public addresses (checked after DNS resolution, on
// every address dialled), follows no redirect, reads at most
// metadataMaxBytes within metadataTimeout, and keeps what it read for
// metadataCacheTTL (a failure for metadataFailureTTL).
type metadataFetcher struct {
	client *http.Client

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	client  *keyward.OAuthClient
	err     error
	expires time.Time
}

func newMetadataFetcher(allowPrivate bool, roots *x509.CertPool) *metadataFetcher {
	dialer := &net.Dialer{Timeout: metadataTimeout, Control: guardDial(allowPrivate)}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would dial for us, past the guard
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    metadataTimeout,
		ResponseHeaderTimeout:  metadataTimeout,
		MaxResponseHeaderBytes: 16 << 10,
		DisableKeepAlives:      true,
	}
	return &metadataFetcher{
		client: &http.Client{
			Transport: transport,
			Timeout:   metadataTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		cache: map[string]cachedClient{},
	}
}

// isMetadataClientID reports whether id names a client by its metadata
// document.
func isMetadataClientID(id string) bool { return strings.HasPrefix(id, "https://") }

// fetch returns the client that the document at id describes. Its error
// has the code invalid_client and says what is wrong, for the person on
// the error page.
func (f *metadataFetcher) fetch(ctx context.Context, id string) (*keyward.OAuthClient, error) {
	f.mu.Lock()
	c, ok := f.cache[id]
	f.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		return c.client, c.err
	}
	client, err := f.read(ctx, id)
	entry := cachedClient{client: client, expires: time.Now().Add(metadataCacheTTL)}
	if err != nil {
		entry.err = keyward.Errorf(service.OAuthInvalidClient, "client metadata document %s: %s", truncateURL(id), err)
		entry.expires = time.Now().Add(metadataFailureTTL)
		if ctx.Err() != nil {
			return nil, entry.err // the asker left: not the document's fault
		}
	}
	f.mu.Lock()
	if len(f.cache) >= metadataCacheSize {
		clear(f.cache)
	}
	f.cache[id] = entry
	f.mu.Unlock()
	return entry.client, entry.err
}

func truncateURL(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// clientDocument is the part of a metadata document keyward reads.
type clientDocument struct {
	ClientID                string   `json:"client_id"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

// read fetches and checks the document at id.
func (f *metadataFetcher) read(ctx context.Context, id string) (*keyward.OAuthClient, error) {
	if err := checkMetadataURL(id); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, errors.New("is not a URL keyward can fetch")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		var refused *refusedAddrError
		if errors.As(err, &refused) {
			return nil, refused
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, fmt.Errorf("did not answer within %s", metadataTimeout)
		}
		return nil, errors.New("could not be fetched (connection or TLS failure)")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			return nil, fmt.Errorf("answered HTTP %d; redirects are not followed", resp.StatusCode)
		}
		return nil, fmt.Errorf("answered HTTP %d, want 200", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, metadataMaxBytes+1))
	if err != nil {
		return nil, errors.New("could not be read whole")
	}
	if len(body) > metadataMaxBytes {
		return nil, fmt.Errorf("is larger than %d KiB", metadataMaxBytes>>10)
	}
	var doc clientDocument
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, errors.New("is not a JSON object with client_id, client_name and redirect_uris")
	}
	if doc.ClientID != id {
		return nil, errors.New("names another client_id than its own URL")
	}
	if doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none" {
		return nil, fmt.Errorf("asks for token_endpoint_auth_method %q; keyward has public clients only (none)", truncateURL(doc.TokenEndpointAuthMethod))
	}
	if len(doc.RedirectURIs) == 0 || len(doc.RedirectURIs) > 10 {
		return nil, errors.New("must list 1 to 10 redirect_uris")
	}
	for _, u := range doc.RedirectURIs {
		if err := service.ValidateRedirectURI(u); err != nil {
			return nil, errors.New(keyward.ErrorMessage(err))
		}
	}
	return &keyward.OAuthClient{
		ID: id, Kind: keyward.OAuthClientMetadata, Name: service.CleanClientName(doc.ClientName),
		RedirectURIs: doc.RedirectURIs,
	}, nil
}

// checkMetadataURL checks the form of a client id that is a URL: https,
// a host, a path, no user information, fragment or dot segments.
func checkMetadataURL(id string) error {
	if len(id) > 2000 {
		return errors.New("is longer than 2000 characters")
	}
	u, err := url.Parse(id)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "" || u.Opaque != "":
		return errors.New("is not an https URL")
	case u.User != nil:
		return errors.New("holds user information")
	case u.Fragment != "" || strings.Contains(id, "#"):
		return errors.New("has a fragment")
	case u.Path == "" || u.Path == "/":
		return errors.New("has no path")
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return errors.New("has dot segments in its path")
		}
	}
	return nil
}

// refusedAddrError is a dial the guard refused.
type refusedAddrError struct {
	addr   string
	reason string
}

func (e *refusedAddrError) Error() string {
	return fmt.Sprintf("resolves to %s, a %s address; keyward fetches client metadata from public addresses only", e.addr, e.reason)
}

// guardDial is the dialer's Control: it runs after DNS resolution, for
// each address about to be dialled, and refuses any address that is not
// public, unless allowPrivate (tests).
func guardDial(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return &refusedAddrError{addr: address, reason: "malformed"}
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return &refusedAddrError{addr: host, reason: "malformed"}
		}
		if reason := nonPublic(ip); reason != "" {
			return &refusedAddrError{addr: ip.String(), reason: reason}
		}
		return nil
	}
}

// nonPublicPrefixes are special-purpose ranges (RFC 6890 and successors)
// that the netip predicates do not cover.
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (CGNAT)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may reach any IPv4 address
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local NAT64
	netip.MustParsePrefix("100::/64"),        // discard
	netip.MustParsePrefix("2001::/32"),       // Teredo: embeds IPv4
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("2002::/16"),       // 6to4: embeds IPv4
}

// nonPublic says what kind of non-public address ip is, or "" for a
// public one.
func nonPublic(ip netip.Addr) string {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback():
		return "loopback"
	case ip.IsPrivate():
		return "private"
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast():
		return "link-local"
	case ip.IsMulticast(), ip.IsInterfaceLocalMulticast():
		return "multicast"
	case ip.IsUnspecified():
		return "unspecified"
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(ip) {
			return "reserved"
		}
	}
	return ""
}
