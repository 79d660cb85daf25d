package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is sent when no WithUserAgent option is given.
const DefaultUserAgent = "keyward-go-client"

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client calls keyward's HTTP API with one token. It is safe for
// concurrent use.
type Client struct {
	base      *url.URL
	baseErr   error
	token     string
	userAgent string
	hc        *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) { c.hc = hc }
}

// WithUserAgent sets the User-Agent header, such as "keyward-cli/1.2.0".
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// New returns a client for the keyward server at baseURL (such as
// "http://127.0.0.1:8080") that presents token as a Bearer token. An
// invalid baseURL makes every call fail with a clear error.
func New(baseURL, token string, opts ...Option) *Client {
	c := &Client{token: token, userAgent: DefaultUserAgent, hc: &http.Client{Timeout: 60 * time.Second}}
	c.base, c.baseErr = parseBaseURL(baseURL)
	for _, o := range opts {
		o(c)
	}
	return c
}

// parseBaseURL checks that s is an absolute http or https URL and drops a
// trailing slash so that API paths can be appended.
func parseBaseURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no server URL given")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("invalid server URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: want http://HOST[:PORT] or https://HOST[:PORT]", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid server URL %q: it may not hold a query or fragment", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// BaseURL returns the server URL the client talks to, or "" if it is
// invalid.
func (c *Client) BaseURL() string {
	if c.base == nil {
		return ""
	}
	return c.base.String()
}

// endpoint returns the URL of an API path built from segments, each
// escaped as one path segment, with an optional query.
func (c *Client) endpoint(query url.Values, segments ...string) (string, error) {
	if c.baseErr != nil {
		return "", c.baseErr
	}
	u := *c.base
	var p strings.Builder
	for _, s := range segments {
		if strings.HasPrefix(s, "/") {
			p.WriteString(s) // a literal path such as "/v1/tokens"
			continue
		}
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("invalid path element %q in request", s)
		}
		p.WriteString("/" + url.PathEscape(s))
	}
	raw := c.base.EscapedPath() + p.String()
	path, err := url.PathUnescape(raw)
	if err != nil {
		return "", fmt.Errorf("building the request path: %w", err)
	}
	u.Path, u.RawPath = path, raw
	if len(query) > 0 {
		u.RawQuery = query.Encode()
	}
	return u.String(), nil
}

// request is one API call.
type request struct {
	method string
	path   []string
	query  url.Values
	body   any // encoded as JSON when not nil
	// noAuth sends no token (health checks).
	noAuth bool
}

// do sends r and decodes a 2xx answer into out (when out is not nil and
// the answer has a body). Any other answer is returned as an *Error.
func (c *Client) do(ctx context.Context, r request, out any) error {
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", r.method, r.path[0], err)
	}
	return nil
}

// send sends r and returns a 2xx response whose body the caller must
// close; any other answer is read and returned as an *Error.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	u, err := c.endpoint(r.query, r.path...)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return nil, fmt.Errorf("encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !r.noAuth {
		if c.token == "" {
			return nil, ErrNoToken
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach %s: %w", c.BaseURL(), stripURLError(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readError(resp)
}

// stripURLError drops the *url.Error wrapper, whose text repeats the
// whole URL; the caller names the server itself.
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ErrNoToken is returned by calls that need a token when the client has
// none.
var ErrNoToken = errors.New("no token: log in with 'keyward login' or set KEYWARD_TOKEN")
