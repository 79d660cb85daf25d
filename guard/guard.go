// Package guard protects the HTTP handlers of a resource server (the
// product keyward guards) with keyward's tokens. Its middleware reads the
// token a request presents (Authorization: Bearer or X-API-Key), asks a
// keyward server about it through POST /v1/verify with the client
// package (or, with guard/embedded, keyward's service in the same
// process), and puts the token's identity (token id, kind, org, user, role,
// agent id and permissions) in the request's context, where FromContext
// finds it. RequirePermission and RequireKind check it; RequireScope asks
// the server whether the token's entity scopes allow an operation on the
// entity the request names.
//
// The guard's own credential is an org API key with tokens:verify.
//
// # The cache and its bound
//
// A VALID verdict is kept for Options.TTL (DefaultTTL, 5 seconds, unless
// set), keyed by the SHA-256 of the token and the client address, never
// by the token itself, in a cache of at most Options.CacheSize verdicts.
// The TTL is the bound on how long a revocation, an expiry, a suspension
// or a change of role takes to be seen: a token revoked at t is refused
// from t+TTL at the latest, once the keyward node asked knows of it (at
// once on the node that revoked it, within its change feed's poll on the
// others). Refusals are never cached, so a token minted
// or unblocked is seen at once. A question about an entity
// (RequireScope, Query.Entity) always goes to the server, since a verdict
// about the token alone says nothing about its scopes. Concurrent misses
// for one token share one question.
//
// keyward counts each question as a use of the token and against its
// rate limit; a request answered from the cache is not counted. A
// resource server that needs every request counted turns the cache off
// (a negative TTL).
//
// # Failing closed
//
// A token refused is answered 401 or 403 (429 when rate limited) with
// keyward's error body, {"error": true, "code", "status", "message",
// "detail"}, and the verdict's code in the "verdict" field and in the
// X-Keyward-Code header, as GET /v1/auth does. When keyward cannot be
// reached, or refuses the guard's own key, every request that needs a
// verdict is answered 503 with the code "unavailable".
package guard

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/internal/clientip"
	"github.com/keyward/keyward/internal/credential"
	"golang.org/x/sync/singleflight"
)

// Defaults of Options.
const (
	// DefaultTTL is how long a VALID verdict is reused: the bound on how
	// long a revocation takes to be seen.
	DefaultTTL = 5 * time.Second
	// DefaultCacheSize is how many verdicts the cache holds at most.
	DefaultCacheSize = 10000
	// DefaultTimeout bounds one question to keyward.
	DefaultTimeout = 5 * time.Second
)

// Identity is what a valid token is: the guard puts it in the request's
// context. Its fields are shared between requests: do not modify them.
type Identity struct {
	// TokenID is the token's id, such as "tok_...".
	TokenID string
	// Kind is pat, oauth, api_key, agent or probe.
	Kind string
	// OrgID is the org the token belongs to.
	OrgID string
	// UserID is the owner of a personal token (pat, oauth); "" for org
	// credentials.
	UserID string
	// Role is the role in force (a personal token's owner's current role,
	// an API key's fixed role); "" for agent and probe tokens.
	Role string
	// AgentID is an agent token's agent; "" for other kinds.
	AgentID string
	// Permissions is what the token may do now.
	Permissions []string
	// ExpiresAt is when the token expires; nil when it does not.
	ExpiresAt *time.Time
}

// Has reports whether the identity holds perm.
func (id *Identity) Has(perm string) bool { return id != nil && slices.Contains(id.Permissions, perm) }

// Options configure a Guard. The zero value is usable.
type Options struct {
	// TTL is how long a VALID verdict is reused: 0 means DefaultTTL, a
	// negative TTL turns the cache off.
	TTL time.Duration
	// CacheSize is how many verdicts the cache holds at most: 0 means
	// DefaultCacheSize. When it is full, an expired verdict or else an
	// arbitrary one makes room.
	CacheSize int
	// Timeout bounds one question to keyward: 0 means DefaultTimeout.
	Timeout time.Duration
	// TrustedProxies are the networks of the reverse proxies in front of
	// the resource server: past them, the client's address is read from
	// X-Forwarded-For (the right-most address that is not a trusted
	// proxy) or X-Real-IP. Without any, it is the socket's peer. It is
	// sent in /v1/verify's ip, which a token's allowlist is checked
	// against.
	TrustedProxies []netip.Prefix
	// ClientIP, when set, replaces TrustedProxies: it returns the client's
	// address for a request, "" for none.
	ClientIP func(*http.Request) string
	// Logger receives why keyward could not answer; nil discards.
	Logger *slog.Logger
	// Now is the clock of the cache; nil means time.Now.
	Now func() time.Time
}

// Verifier answers POST /v1/verify's question. *client.Client is one; a
// program that embeds keyward's service may give its own.
type Verifier interface {
	Verify(ctx context.Context, req client.VerifyRequest) (*client.Verification, error)
}

// Guard verifies tokens through a keyward server. It is safe for
// concurrent use.
type Guard struct {
	kw       Verifier
	flight   singleflight.Group
	ttl      time.Duration
	timeout  time.Duration
	clientIP func(*http.Request) string
	log      *slog.Logger
	now      func() time.Time
	cache    *cache
}

// New returns a guard that asks kw, such as a *client.Client of the
// keyward server whose token is an org API key with tokens:verify.
func New(kw Verifier, opts Options) *Guard {
	g := &Guard{kw: kw, ttl: opts.TTL, timeout: opts.Timeout, clientIP: opts.ClientIP, log: opts.Logger, now: opts.Now}
	if g.ttl == 0 {
		g.ttl = DefaultTTL
	}
	if g.timeout <= 0 {
		g.timeout = DefaultTimeout
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.clientIP == nil {
		res := clientip.New(opts.TrustedProxies)
		g.clientIP = res.String
	}
	size := opts.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	if g.ttl > 0 {
		g.cache = newCache(size)
	}
	return g
}

// Query is one question about a presented token.
type Query struct {
	// Token is the presented token.
	Token string
	// IP is the address of the client that presented it; "" for none.
	IP string
	// Permission, when set, must be held by the token.
	Permission string
	// Entity, when set, must be allowed by the token's scopes; such a
	// question always goes to the server.
	Entity *Entity
}

// Entity is an operation on an entity of the resource server, as a
// token's scopes name it: type "monitor", id "m_1", operation "read".
// The operations are keyward's: create, read, list, update, delete,
// share, unshare, publish, subscribe.
type Entity struct {
	Type, ID, Operation string
}

// Refusal is a token refused: by keyward's verdict, or by a check of the
// guard (RequirePermission, RequireKind).
type Refusal struct {
	// Verdict is the verdict's code: NOT_FOUND, EXPIRED, REVOKED, BLOCKED,
	// FORBIDDEN, INSUFFICIENT_PERMISSIONS, RATE_LIMITED, IP_NOT_ALLOWED;
	// "" for a request refused before any (a token in the URL, 400).
	Verdict string
	// Status is the HTTP status that answers it: 401, 403 or 429.
	Status int
	// Code is keyward's error code for it: unauthorized, forbidden,
	// ip_not_allowed, rate_limited.
	Code string
	// Message says why, for people.
	Message string
	// Detail optionally says more.
	Detail string
}

func (r *Refusal) Error() string {
	if r.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", r.Message, r.Detail, r.Verdict)
	}
	return fmt.Sprintf("%s (%s)", r.Message, r.Verdict)
}

// ErrUnavailable is wrapped by the error of a question keyward could not
// answer: it cannot be reached, it answered an error, or it refused the
// guard's own key.
var ErrUnavailable = errors.New("keyward is unavailable")

// Verify asks whether q.Token may be used, and returns its identity, a
// *Refusal, or an error that wraps ErrUnavailable. A question without an
// entity is answered from the cache when it can be; a permission is then
// checked against the identity's permissions.
func (g *Guard) Verify(ctx context.Context, q Query) (*Identity, error) {
	if q.Entity != nil {
		return g.ask(ctx, q)
	}
	var key cacheKey
	if g.cache != nil {
		key = cacheKey{hash: sha256.Sum256([]byte(q.Token)), ip: q.IP}
		if id, ok := g.cache.get(key, g.now()); ok {
			return id, checkPermission(id, q.Permission)
		}
	}
	// The verdict is asked without the permission, so that it serves
	// every permission while it is cached.
	perm := q.Permission
	q.Permission = ""
	if g.cache == nil {
		id, err := g.ask(ctx, q)
		if err != nil {
			return nil, err
		}
		return id, checkPermission(id, perm)
	}
	// Concurrent misses for one token and address share one question,
	// which outlives a request that gives up (ask has its own timeout).
	ch := g.flight.DoChan(string(key.hash[:])+"\x00"+key.ip, func() (any, error) {
		id, err := g.ask(context.WithoutCancel(ctx), q)
		if err != nil {
			return nil, err
		}
		now := g.now()
		until := now.Add(g.ttl)
		if id.ExpiresAt != nil && id.ExpiresAt.Before(until) {
			until = *id.ExpiresAt
		}
		g.cache.put(key, id, now, until)
		return id, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		id := res.Val.(*Identity)
		return id, checkPermission(id, perm)
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// ask puts q to the server.
func (g *Guard) ask(ctx context.Context, q Query) (*Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	req := client.VerifyRequest{Token: q.Token, Permission: q.Permission, IP: q.IP}
	if e := q.Entity; e != nil {
		req.Entity = &client.VerifyEntity{EntityType: e.Type, EntityID: e.ID, Operation: e.Operation}
	}
	v, err := g.kw.Verify(ctx, req)
	if err != nil {
		var ke *client.Error
		if errors.As(err, &ke) && ke.Status == http.StatusBadRequest && q.Entity != nil {
			// The entity the request names is not one keyward could
			// scope (such as an id too long): no scope allows it.
			return nil, refusal("FORBIDDEN", ke.Message)
		}
		g.log.Error("guard: keyward could not answer /v1/verify", "err", err)
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !v.Valid {
		return nil, refusal(v.Code, v.Message)
	}
	if v.Token == nil {
		return nil, fmt.Errorf("%w: a VALID verdict without its token", ErrUnavailable)
	}
	t := v.Token
	id := &Identity{TokenID: t.ID, Kind: t.Kind, OrgID: t.OrgID, Permissions: v.Permissions, ExpiresAt: t.ExpiresAt}
	if t.UserID != nil {
		id.UserID = *t.UserID
	}
	if v.Role != nil {
		id.Role = *v.Role
	}
	if t.AgentID != nil {
		id.AgentID = *t.AgentID
	}
	return id, nil
}

// checkPermission refuses id unless it holds perm ("" asks nothing).
func checkPermission(id *Identity, perm string) error {
	if perm == "" || id.Has(perm) {
		return nil
	}
	return refusal("INSUFFICIENT_PERMISSIONS", fmt.Sprintf("missing permission: the token lacks %s", perm))
}

type ctxKey struct{}

// NewContext returns ctx carrying id, as the middleware does.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity that the middleware put in ctx.
func FromContext(ctx context.Context) (*Identity, bool) {
	id, ok := ctx.Value(ctxKey{}).(*Identity)
	return id, ok && id != nil
}

// Authenticate is the middleware: it refuses a request whose token is
// missing, malformed or not VALID, and serves next with the token's
// identity in the request's context.
func (g *Guard) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := presented(r)
		if err != nil {
			writeError(w, err)
			return
		}
		id, err := g.Verify(r.Context(), Query{Token: tok, IP: g.clientIP(r)})
		if err != nil {
			writeError(w, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
	})
}

// RequirePermission returns middleware that refuses, 403
// INSUFFICIENT_PERMISSIONS, a request whose identity lacks perm. It goes
// after Authenticate; without an identity in the context it refuses 401.
func RequirePermission(perm string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := FromContext(r.Context())
			if !ok {
				writeError(w, errNoIdentity)
				return
			}
			if err := checkPermission(id, perm); err != nil {
				writeError(w, err)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireKind returns middleware that refuses, 403 FORBIDDEN, a request
// whose identity is not of one of kinds (pat, oauth, api_key, agent,
// probe). It goes after Authenticate.
func RequireKind(kinds ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, ok := FromContext(r.Context())
			if !ok {
				writeError(w, errNoIdentity)
				return
			}
			if !slices.Contains(kinds, id.Kind) {
				writeError(w, refusal("FORBIDDEN", fmt.Sprintf("this kind of token is not admitted here: %s", id.Kind)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RequireScope returns middleware that asks keyward, on every request,
// whether the token's scopes allow operation on the entity of
// entityType whose id entityID reads from the request (such as
// r.PathValue("id")); keyward answers FORBIDDEN when they do not. An
// unscoped token is allowed every entity. It may be used with or without
// Authenticate before it, and puts the identity in the context.
func (g *Guard) RequireScope(entityType, operation string, entityID func(*http.Request) string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, err := presented(r)
			if err != nil {
				writeError(w, err)
				return
			}
			eid := entityID(r)
			if eid == "" {
				writeError(w, refusal("FORBIDDEN", "the request names no entity"))
				return
			}
			id, err := g.Verify(r.Context(), Query{Token: tok, IP: g.clientIP(r), Entity: &Entity{Type: entityType, ID: eid, Operation: operation}})
			if err != nil {
				writeError(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), id)))
		})
	}
}

// presented returns the token r presents, strictly as keyward reads it,
// or the refusal of a request with none.
func presented(r *http.Request) (string, error) {
	if name, ok := credential.TokenInQuery(r.URL.RawQuery); ok {
		// As on GET /v1/auth, a malformed request reaches no verdict.
		return "", &Refusal{Status: http.StatusBadRequest, Code: "token_in_url",
			Message: fmt.Sprintf("a token in the query string (%q) is never accepted", name),
			Detail:  "send it in the 'Authorization: Bearer <token>' or 'X-API-Key' header, and consider it exposed"}
	}
	tok, err := credential.FromHeader(r.Header)
	if err != nil {
		// The message of a malformed header says what is wrong, never
		// the token.
		return "", &Refusal{Verdict: "NOT_FOUND", Status: http.StatusUnauthorized, Code: "unauthorized",
			Message: keyward.ErrorMessage(err), Detail: keyward.ErrorDetail(err)}
	}
	return tok, nil
}

// errNoIdentity refuses a request that reached a check without an
// identity: the check is wired without Authenticate before it.
var errNoIdentity = &Refusal{Verdict: "NOT_FOUND", Status: http.StatusUnauthorized, Code: "unauthorized", Message: "missing credential", Detail: "no identity in the request's context: put Authenticate first"}
