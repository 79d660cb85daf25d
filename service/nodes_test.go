package service_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/postgres"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/sqlite"
)

// These tests run two services, two nodes, on one database, each following
// the change feed as `keyward serve` does: a change made on the first
// must bite on the second.

// cluster is two nodes on one database.
type cluster struct {
	t    *testing.T
	ctx  context.Context
	a, b *service.Service
	boot *service.BootstrapResult
	// owner is the bootstrap owner as node a sees them.
	owner *service.Caller
	// store is a's store, for caughtUp; nil where no test needs it.
	store service.Store
}

// settle bounds how long a change may take to reach the other node in
// these tests; they assert the outcome, never the time.
const settle = 10 * time.Second

func newCluster(t *testing.T, a, b *service.Service) *cluster {
	t.Helper()
	c := &cluster{t: t, ctx: context.Background(), a: a, b: b}
	var err error
	if c.boot, err = a.Bootstrap(c.ctx, service.BootstrapRequest{Email: "owner@example.com", OrgName: "Acme", Password: "correct horse battery staple"}); err != nil {
		t.Fatalf("Bootstrap: %v", err)
	}
	if c.owner, err = a.Authenticate(c.ctx, c.boot.Secret, netip.Addr{}, "test"); err != nil {
		t.Fatalf("Authenticate on a: %v", err)
	}
	return c
}

// caughtUp waits until b has applied every change-feed entry written so
// far, and returns the newest entry's sequence number. A token b caches
// before it applies the entry of the token's creation is evicted by that
// entry, and read again at its next use.
func (c *cluster) caughtUp() int64 {
	c.t.Helper()
	var last int64
	err := c.store.View(c.ctx, func(tx service.Tx) error {
		var err error
		last, err = tx.LastChangeSeq(c.ctx)
		return err
	})
	if err != nil {
		c.t.Fatal(err)
	}
	c.eventually("b has read the feed", func() bool { return c.b.VerifyStats().LastSeq >= last })
	return last
}

// code is what node n answers for secret: "" for a valid token, else the
// error code.
func (c *cluster) code(n *service.Service, secret string) string {
	_, err := n.Authenticate(c.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	return keyward.ErrorCode(err)
}

// role is the role node n gives the bearer of secret, "" if refused.
func (c *cluster) role(n *service.Service, secret string) keyward.Role {
	caller, err := n.Authenticate(c.ctx, secret, netip.MustParseAddr("127.0.0.1"), "test")
	if err != nil {
		return ""
	}
	return caller.Role
}

// eventually waits until cond holds, for at most settle, and fails the
// test with what it says otherwise.
func (c *cluster) eventually(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(settle)
	for !cond() {
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not so after %v", what, settle)
		}
		time.Sleep(time.Millisecond)
	}
}

// testTwoNodes checks that every kind of change made on node a bites on
// node b, which has the old state cached.
func testTwoNodes(t *testing.T, c *cluster) {
	bob := c.member("bob@example.com", keyward.RoleMember)
	if got := c.role(c.b, bob); got != keyward.RoleMember {
		t.Fatalf("bob on b: got role %q, want member", got)
	}

	// Revocation.
	tok, secret, err := c.a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.code(c.b, secret); got != "" {
		t.Fatalf("new token on b: got %q, want valid", got)
	}
	if _, err := c.a.RevokeToken(c.ctx, c.owner, service.Personal, tok.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.code(c.a, secret); got != keyward.EUNAUTHORIZED {
		t.Fatalf("revoked token on a, at once: got %q, want unauthorized", got)
	}
	c.eventually("revoked token refused on b", func() bool { return c.code(c.b, secret) == keyward.EUNAUTHORIZED })

	// Regeneration: the old secret dies on b, the new one works there.
	tok, secret, err = c.a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "regen"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.code(c.b, secret); got != "" {
		t.Fatalf("token on b: got %q, want valid", got)
	}
	_, fresh, err := c.a.RegenerateToken(c.ctx, c.owner, service.Personal, tok.ID, service.RegenerateRequest{})
	if err != nil {
		t.Fatal(err)
	}
	c.eventually("regenerated token's old secret refused on b", func() bool { return c.code(c.b, secret) == keyward.EUNAUTHORIZED })
	if got := c.code(c.b, fresh); got != "" {
		t.Fatalf("regenerated token's new secret on b: got %q, want valid", got)
	}

	// Role change.
	if _, err := c.a.UpdateMember(c.ctx, c.owner, "bob@example.com", service.MemberUpdate{Role: keyward.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	c.eventually("bob is admin on b", func() bool { return c.role(c.b, bob) == keyward.RoleAdmin })

	// Suspension, and its end.
	if _, err := c.a.SuspendMember(c.ctx, c.owner, "bob@example.com", true); err != nil {
		t.Fatal(err)
	}
	c.eventually("suspended bob is blocked on b", func() bool { return c.code(c.b, bob) == keyward.EFORBIDDEN })
	if _, err := c.a.SuspendMember(c.ctx, c.owner, "bob@example.com", false); err != nil {
		t.Fatal(err)
	}
	c.eventually("unsuspended bob is back on b", func() bool { return c.code(c.b, bob) == "" })

	// Policy: a token without expiry is blocked on b.
	if _, err := c.a.SavePolicy(c.ctx, c.owner, service.PolicyRequest{MaxLifetime: "90d"}); err == nil || keyward.ErrorCode(err) != keyward.ECONFLICT {
		t.Fatalf("policy through a token it would block: got %v, want conflict", err)
	}
	_, complying, err := c.a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "complying", ExpiresIn: "30d"})
	if err != nil {
		t.Fatal(err)
	}
	owner2, err := c.a.Authenticate(c.ctx, complying, netip.Addr{}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.code(c.b, c.boot.Secret); got != "" {
		t.Fatalf("owner's token on b before the policy: got %q, want valid", got)
	}
	if _, err := c.a.SavePolicy(c.ctx, owner2, service.PolicyRequest{RequireExpiry: true}); err != nil {
		t.Fatal(err)
	}
	c.eventually("token without expiry blocked on b", func() bool { return c.code(c.b, c.boot.Secret) == keyward.EFORBIDDEN })
	if got := c.code(c.b, complying); got != "" {
		t.Fatalf("complying token on b: got %q, want valid", got)
	}
	if _, err := c.a.SavePolicy(c.ctx, owner2, service.PolicyRequest{}); err != nil {
		t.Fatal(err)
	}
	c.eventually("policy lifted on b", func() bool { return c.code(c.b, c.boot.Secret) == "" })

	// Removal: bob's tokens are refused on b.
	if _, _, err := c.a.RemoveMember(c.ctx, c.owner, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	c.eventually("removed bob refused on b", func() bool { return c.code(c.b, bob) == keyward.EUNAUTHORIZED })

	// A token minted on a works on b at once, even after b was asked
	// about strings that do not exist.
	for range 3 {
		if got := c.code(c.b, c.b.Format().New(keyward.KindPAT)); got != keyward.EUNAUTHORIZED {
			t.Fatalf("unknown token on b: got %q, want unauthorized", got)
		}
	}
	_, minted, err := c.a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "new"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.code(c.b, minted); got != "" {
		t.Fatalf("token minted on a, on b: got %q, want valid", got)
	}
	// Each answer above may have been a miss: the feed entry of a change
	// can reach b after b cached the token, and evict it. Once b has read
	// the whole feed, the second of two answers is from its cache.
	c.caughtUp()
	for range 2 {
		if got := c.code(c.b, minted); got != "" {
			t.Fatalf("token minted on a, on b after the feed: got %q, want valid", got)
		}
	}
	if s := c.b.VerifyStats(); s.Hits == 0 || s.Misses == 0 || s.NegativeHits != 0 || s.LastSeq == 0 || s.LastChange.IsZero() {
		t.Errorf("b's stats: got %+v, want hits, misses and a feed position", s)
	}
}

// member invites email to the org with role on node a, has the account
// accept, and returns a PAT of theirs.
func (c *cluster) member(email string, role keyward.Role) string {
	c.t.Helper()
	u, err := c.a.AdminCreateUser(c.ctx, email, "", "", "", "")
	if err != nil {
		c.t.Fatal(err)
	}
	inv, err := c.a.AddMember(c.ctx, c.owner, service.MemberRequest{Email: email, Role: role})
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.a.AcceptInvitation(c.ctx, inv.Token, u, "", ""); err != nil {
		c.t.Fatal(err)
	}
	_, secret, err := c.a.AdminCreateToken(c.ctx, email, c.boot.Org.ID, service.TokenRequest{Name: "t"})
	if err != nil {
		c.t.Fatal(err)
	}
	return secret
}

// nodeOptions change a test node: its service's options, and a switch
// that cuts it off from the database, as a network partition would.
type nodeOptions struct {
	svc service.Options
	cut *partition
	// store, if set, receives the node's store.
	store *service.Store
}

// partition cuts a node off its database. A transaction that began before
// the cut may still be reading; cut waits for it to end, so that nothing
// the node reads afterwards was written after the cut.
type partition struct {
	on   atomic.Bool
	busy atomic.Int64
}

func (p *partition) cut() {
	p.on.Store(true)
	for p.busy.Load() > 0 {
		time.Sleep(time.Millisecond)
	}
}

func (p *partition) heal() { p.on.Store(false) }

// cutStore is a store that fails while its partition is cut.
type cutStore struct {
	service.Store
	p *partition
}

func (s cutStore) View(ctx context.Context, fn func(tx service.Tx) error) error {
	s.p.busy.Add(1)
	defer s.p.busy.Add(-1)
	if s.p.on.Load() {
		return errors.New("cut off from the database")
	}
	return s.Store.View(ctx, fn)
}

func (s cutStore) Update(ctx context.Context, fn func(tx service.Tx) error) error {
	s.p.busy.Add(1)
	defer s.p.busy.Add(-1)
	if s.p.on.Load() {
		return errors.New("cut off from the database")
	}
	return s.Store.Update(ctx, fn)
}

// newService returns a service over store that follows the change feed
// until the test ends, woken by wake (if not nil) and polling every poll.
func newService(t *testing.T, store service.Store, wake <-chan struct{}, poll time.Duration, o nodeOptions) *service.Service {
	t.Helper()
	if o.store != nil {
		*o.store = store
	}
	if o.cut != nil {
		store = cutStore{store, o.cut}
	}
	svc, err := service.New(store, o.svc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done, err := svc.Follow(ctx, service.FollowOptions{Wake: wake, Poll: poll})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

// postgresNode opens a node on the PostgreSQL database at url that
// listens for notifications as `keyward serve` does, with a poll of poll
// as its safety net.
func postgresNode(t *testing.T, url string, poll time.Duration, o nodeOptions) *service.Service {
	t.Helper()
	store, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	listening := make(chan struct{})
	go func() { defer close(listening); postgres.Listen(ctx, url, wake, nil) }()
	t.Cleanup(func() { cancel(); <-listening })
	return newService(t, store, wake, poll, o)
}

func sqliteNode(t *testing.T, path string, o nodeOptions) *service.Service {
	t.Helper()
	store, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return newService(t, store, nil, 100*time.Millisecond, o)
}

func TestTwoNodesPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	var store service.Store
	c := newCluster(t, postgresNode(t, url, time.Minute, nodeOptions{store: &store}), postgresNode(t, url, time.Minute, nodeOptions{}))
	c.store = store
	testTwoNodes(t, c)
}

func TestTwoNodesSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	var store service.Store
	c := newCluster(t, sqliteNode(t, path, nodeOptions{store: &store}), sqliteNode(t, path, nodeOptions{}))
	c.store = store
	testTwoNodes(t, c)
}

// testFallenBehindPrune cuts node b off the database while a revokes a
// token b has cached and prunes every entry of the feed. When b is back,
// its follower finds that it missed pruned entries: b must refuse the
// token rather than answer from its cache, and go on following.
func testFallenBehindPrune(t *testing.T, node func(o nodeOptions) *service.Service) {
	var shift atomic.Int64 // how far a's clock runs ahead
	var store service.Store
	a := node(nodeOptions{svc: service.Options{Now: func() time.Time { return time.Now().Add(time.Duration(shift.Load())) }}, store: &store})
	var cut partition
	b := node(nodeOptions{cut: &cut})
	c := newCluster(t, a, b)
	c.store = store

	tok, secret, err := a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	last := c.caughtUp()
	if got := c.code(b, secret); got != "" {
		t.Fatalf("new token on b: got %q, want valid", got)
	}

	cut.cut()
	if _, err := a.RevokeToken(c.ctx, c.owner, service.Personal, tok.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if got := c.code(b, secret); got != "" {
		t.Fatalf("revoked token on b while cut off: got %q, want the valid answer b still has cached", got)
	}
	shift.Store(int64(service.DefaultChangeRetention + time.Hour))
	n, err := a.PruneChanges(c.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("PruneChanges a day later: got 0 deleted, want every entry")
	}
	shift.Store(0)
	cut.heal()

	c.eventually("token revoked while b was cut off, refused on b", func() bool { return c.code(b, secret) == keyward.EUNAUTHORIZED })
	if s := b.VerifyStats(); s.LastSeq <= last || s.PrunedResets != 1 {
		t.Errorf("b's stats: got position %d and %d pruned resets, want past %d and 1", s.LastSeq, s.PrunedResets, last)
	}

	// b follows on from its new position.
	tok, secret, err = a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: "after"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.code(b, secret); got != "" {
		t.Fatalf("token minted after the prune, on b: got %q, want valid", got)
	}
	if _, err := a.RevokeToken(c.ctx, c.owner, service.Personal, tok.ID, "test"); err != nil {
		t.Fatal(err)
	}
	c.eventually("token revoked after the prune, refused on b", func() bool { return c.code(b, secret) == keyward.EUNAUTHORIZED })
}

func TestFallenBehindPrunePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	testFallenBehindPrune(t, func(o nodeOptions) *service.Service { return postgresNode(t, url, 100*time.Millisecond, o) })
}

func TestFallenBehindPruneSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	testFallenBehindPrune(t, func(o nodeOptions) *service.Service { return sqliteNode(t, path, o) })
}

// revocations mints n tokens on a, has b cache each of them, then revokes
// them one by one on a, waiting each time until b refuses it, and returns
// how long each took to reach b after a acknowledged it. between, if set,
// runs before each revocation.
func (c *cluster) revocations(n int, between func(i int)) []time.Duration {
	c.t.Helper()
	type minted struct{ id, secret string }
	toks := make([]minted, n)
	for i := range toks {
		tok, secret, err := c.a.CreateToken(c.ctx, c.owner, service.Personal, service.TokenRequest{Name: fmt.Sprintf("p%d", i)})
		if err != nil {
			c.t.Fatal(err)
		}
		toks[i] = minted{tok.ID, secret}
	}
	// b caches every token once it has applied the entries of their
	// creation: a read that overlaps a change b applies is not cached, so
	// b is asked until a whole round is answered from its cache.
	c.caughtUp()
	for round := 0; ; round++ {
		before := c.b.VerifyStats().Misses
		for i, tk := range toks {
			if got := c.code(c.b, tk.secret); got != "" {
				c.t.Fatalf("token %d on b: got %q, want valid", i, got)
			}
		}
		if c.b.VerifyStats().Misses == before {
			break
		}
		if round == 100 {
			c.t.Fatal("b never cached every token")
		}
	}
	lat := make([]time.Duration, 0, n)
	for i, tk := range toks {
		if between != nil {
			between(i)
		}
		if _, err := c.a.RevokeToken(c.ctx, c.owner, service.Personal, tk.id, ""); err != nil {
			c.t.Fatal(err)
		}
		acked := time.Now()
		deadline := acked.Add(settle)
		for c.code(c.b, tk.secret) != keyward.EUNAUTHORIZED {
			if time.Now().After(deadline) {
				c.t.Fatalf("revocation %d: b still accepts the token after %v", i, settle)
			}
			time.Sleep(50 * time.Microsecond)
		}
		lat = append(lat, time.Since(acked))
	}
	if s := c.b.VerifyStats(); s.Entries < n {
		c.t.Fatalf("b holds %d tokens, want the %d revoked ones still cached", s.Entries, n)
	}
	// Every token stays refused on both nodes.
	for i, tk := range toks {
		if got, got2 := c.code(c.a, tk.secret), c.code(c.b, tk.secret); got != keyward.EUNAUTHORIZED || got2 != keyward.EUNAUTHORIZED {
			c.t.Fatalf("revoked token %d: got %q on a and %q on b, want unauthorized on both", i, got, got2)
		}
	}
	return lat
}

func logLatencies(t *testing.T, what string, lat []time.Duration) {
	t.Helper()
	s := slices.Clone(lat)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	t.Logf("%s: %d revocations seen by the second node after a's acknowledgement: p50 %v, p90 %v, p99 %v, max %v",
		what, len(s), q(0.50).Round(time.Microsecond), q(0.90).Round(time.Microsecond), q(0.99).Round(time.Microsecond), s[len(s)-1].Round(time.Microsecond))
}

// TestRevocationPropagationPostgres measures how soon a revocation on one
// node is seen by the other over LISTEN/NOTIFY (the poll is a minute, so
// only notifications count). It logs figures; it asserts only that every
// revocation arrives.
func TestRevocationPropagationPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 revocations: skipped with -short")
	}
	url := testenv.PostgresURL(t)
	var store service.Store
	c := newCluster(t, postgresNode(t, url, time.Minute, nodeOptions{store: &store}), postgresNode(t, url, time.Minute, nodeOptions{}))
	c.store = store
	logLatencies(t, "PostgreSQL", c.revocations(1000, nil))
}

// TestRevocationPropagationSQLite is the same on one SQLite file, where
// nodes poll every 100 ms.
func TestRevocationPropagationSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("revocations: skipped with -short")
	}
	path := filepath.Join(t.TempDir(), "k.db")
	var store service.Store
	c := newCluster(t, sqliteNode(t, path, nodeOptions{store: &store}), sqliteNode(t, path, nodeOptions{}))
	c.store = store
	logLatencies(t, "SQLite", c.revocations(100, nil))
}

// TestListenerCutPostgres cuts the listening connections again and again
// while revocations go on; the poll is a minute, so only a reconnection's
// catch-up can bring what was missed. Every revoked token must be refused
// on the second node.
func TestListenerCutPostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	var store service.Store
	c := newCluster(t, postgresNode(t, url, time.Minute, nodeOptions{store: &store}), postgresNode(t, url, time.Minute, nodeOptions{}))
	c.store = store
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var cut atomic.Int64
	lat := c.revocations(60, func(i int) {
		if i%6 != 3 {
			return
		}
		var n int64
		err := admin.QueryRowContext(c.ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE application_name = $1 AND datname = current_database()`, postgres.ListenerName).Scan(&n)
		if err != nil {
			t.Fatalf("cutting the listeners: %v", err)
		}
		cut.Add(n)
	})
	if cut.Load() < 5 {
		t.Fatalf("cut %d listening connections, want at least 5", cut.Load())
	}
	logLatencies(t, fmt.Sprintf("PostgreSQL, %d listener connections cut", cut.Load()), lat)
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" driver for database/sql
