package verify_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// fakeStore is a Loader over records in memory: the unit tests' stand-in
// for the service's store.
type fakeStore struct {
	mu    sync.Mutex
	recs  map[keyward.Hash]*verify.Record
	calls atomic.Int64
	// before, when set, runs at each load before the look-up.
	before func()
	// seq is the feed position the store's reads report (0: unknown).
	seq atomic.Int64
}

func (f *fakeStore) LoadToken(ctx context.Context, h keyward.Hash) (*verify.Record, error) {
	f.calls.Add(1)
	if f.before != nil {
		f.before()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.recs[h]
	if !ok {
		if seq := f.seq.Load(); seq > 0 {
			return &verify.Record{Seq: seq}, nil
		}
		return nil, keyward.ErrNotFound("token")
	}
	// A copy, as a store's read is: the tests change records under mu.
	cp := *r
	tok := *r.Token
	cp.Token = &tok
	if r.Membership != nil {
		m := *r.Membership
		cp.Membership = &m
	}
	if r.Policy != nil {
		p := *r.Policy
		cp.Policy = &p
	}
	cp.Seq = f.seq.Load()
	return &cp, nil
}

func (f *fakeStore) put(secret string, r *verify.Record) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.recs[keyward.HashToken(secret)] = r
}

type fixture struct {
	format *keyward.TokenFormat
	perms  *keyward.PermissionModel
	store  *fakeStore
	cache  *verify.Cache
	org    *keyward.Org
	user   *keyward.User
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	format, err := keyward.NewTokenFormat("kw")
	if err != nil {
		t.Fatal(err)
	}
	perms, err := keyward.NewPermissionModel([]string{"monitors:read", "monitors:write", "agent:heartbeat"})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{
		format: format,
		perms:  perms,
		store:  &fakeStore{recs: map[keyward.Hash]*verify.Record{}},
		org:    &keyward.Org{ID: "org_1", Slug: "acme", Name: "Acme"},
		user:   &keyward.User{ID: "usr_1", Email: "a@example.com", PasswordHash: "secret-hash"},
	}
	f.cache = verify.New(format, perms, f.store, verify.Options{})
	return f
}

// pat returns a fresh PAT secret and its record for the fixture's user,
// with role; edit changes the record before it is stored.
func (f *fixture) pat(role keyward.Role, edit func(r *verify.Record)) (string, *verify.Record) {
	secret := f.format.New(keyward.KindPAT)
	r := &verify.Record{
		Token: &keyward.Token{
			ID: keyward.NewID(keyward.IDPrefixToken), Kind: keyward.KindPAT, OrgID: f.org.ID, UserID: f.user.ID,
			CreatedBy: f.user.ID, Name: "ci", Source: keyward.SourceCLI, Display: keyward.DisplayToken(secret),
			CreatedAt: now.Add(-time.Hour),
		},
		Org:        f.org,
		Policy:     &keyward.Policy{OrgID: f.org.ID},
		Membership: &keyward.Membership{OrgID: f.org.ID, UserID: f.user.ID, Role: role},
		User:       f.user,
	}
	r.Token.FamilyID = r.Token.ID
	r.Token.Hash = keyward.HashToken(secret)
	if edit != nil {
		edit(r)
	}
	f.store.put(secret, r)
	return secret, r
}

func (f *fixture) verify(t testing.TB, secret string, ip netip.Addr) verify.Verdict {
	t.Helper()
	v, err := f.cache.Verify(context.Background(), secret, ip, now)
	if err != nil && v.Code != verify.Malformed {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

func ptr[T any](v T) *T { return &v }

func TestVerdicts(t *testing.T) {
	local := netip.MustParseAddr("10.1.2.3")
	outside := netip.MustParseAddr("192.0.2.7")
	tests := []struct {
		name   string
		role   keyward.Role
		edit   func(r *verify.Record)
		ip     netip.Addr
		code   verify.Code
		reason string
		// wantRole and wantPerms are checked for valid tokens.
		wantRole  keyward.Role
		wantPerms []string
	}{
		{name: "valid member", role: keyward.RoleMember, code: verify.Valid, wantRole: keyward.RoleMember},
		{name: "valid owner", role: keyward.RoleOwner, code: verify.Valid, wantRole: keyward.RoleOwner},
		{name: "revoked", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Token.RevokedAt = ptr(now.Add(-time.Minute)) }, code: verify.Revoked},
		{name: "expired", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Token.ExpiresAt = ptr(now) }, code: verify.Expired},
		{name: "not yet expired", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Token.ExpiresAt = ptr(now.Add(time.Microsecond)) }, code: verify.Valid, wantRole: keyward.RoleOwner},
		{name: "rotated out and used after overlap", role: keyward.RoleOwner, edit: func(r *verify.Record) {
			r.Token.ExpiresAt, r.Token.SupersededBy = ptr(now.Add(-time.Second)), "tok_new"
		}, code: verify.Reused},
		{name: "rotated out within overlap", role: keyward.RoleOwner, edit: func(r *verify.Record) {
			r.Token.ExpiresAt, r.Token.SupersededBy = ptr(now.Add(time.Hour)), "tok_new"
		}, code: verify.Valid, wantRole: keyward.RoleOwner},
		{name: "suspended", role: keyward.RoleAdmin, edit: func(r *verify.Record) { r.Membership.Suspended = true }, code: verify.Blocked, reason: "token owner is suspended"},
		{name: "revoked beats suspended", role: keyward.RoleAdmin, edit: func(r *verify.Record) {
			r.Membership.Suspended, r.Token.RevokedAt = true, ptr(now)
		}, code: verify.Revoked},
		{name: "expired beats suspended", role: keyward.RoleAdmin, edit: func(r *verify.Record) {
			r.Membership.Suspended, r.Token.ExpiresAt = true, ptr(now.Add(-time.Second))
		}, code: verify.Expired},
		{name: "policy requires expiry", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Policy.RequireExpiry = true }, code: verify.Blocked, reason: "org policy requires an expiry"},
		{name: "policy disallows kind", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Policy.AllowedKinds = []keyward.Kind{keyward.KindAPIKey} }, code: verify.Blocked, reason: "org policy does not allow tokens of kind pat"},
		{name: "no longer a member", role: keyward.RoleOwner, edit: func(r *verify.Record) { r.Membership = nil }, code: verify.NotMember},
		{name: "allowlist, inside", role: keyward.RoleMember, ip: local, edit: func(r *verify.Record) {
			r.Token.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, code: verify.Valid, wantRole: keyward.RoleMember},
		{name: "allowlist, outside", role: keyward.RoleMember, ip: outside, edit: func(r *verify.Record) {
			r.Token.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, code: verify.IPNotAllowed},
		{name: "allowlist, no address given", role: keyward.RoleMember, edit: func(r *verify.Record) {
			r.Token.AllowedCIDRs = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		}, code: verify.Valid, wantRole: keyward.RoleMember},
		{name: "subset narrows the role", role: keyward.RoleAdmin, edit: func(r *verify.Record) {
			r.Token.Permissions = keyward.NewPermissions("monitors:read", "audit:read", "policy:manage")
		}, code: verify.Valid, wantRole: keyward.RoleAdmin, wantPerms: []string{"audit:read", "monitors:read"}},
		{name: "api key keeps its own role", role: "", edit: func(r *verify.Record) {
			r.Token.Kind, r.Token.UserID, r.Token.Role, r.Membership, r.User = keyward.KindAPIKey, "", keyward.RoleViewer, nil, nil
		}, code: verify.Valid, wantRole: keyward.RoleViewer},
		{name: "agent token holds agent permissions only", role: "", edit: func(r *verify.Record) {
			r.Token.Kind, r.Token.UserID, r.Token.AgentID, r.Membership, r.User = keyward.KindAgent, "", "agent-7", nil, nil
		}, code: verify.Valid, wantRole: "", wantPerms: []string{"agent:heartbeat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			secret, rec := f.pat(tt.role, tt.edit)
			for _, pass := range []string{"miss", "hit"} {
				v := f.verify(t, secret, tt.ip)
				if v.Code != tt.code {
					t.Fatalf("%s: got code %v, want %v", pass, v.Code, tt.code)
				}
				if v.Reason != tt.reason {
					t.Errorf("%s: got reason %q, want %q", pass, v.Reason, tt.reason)
				}
				if v.TokenID() != rec.Token.ID || v.OrgID() != f.org.ID {
					t.Errorf("%s: got token %q org %q, want %q %q", pass, v.TokenID(), v.OrgID(), rec.Token.ID, f.org.ID)
				}
				if tt.code != verify.Valid {
					if v.Can(keyward.PermTokensRead) {
						t.Errorf("%s: a %v token can read tokens", pass, v.Code)
					}
					continue
				}
				if v.Role != tt.wantRole {
					t.Errorf("%s: got role %q, want %q", pass, v.Role, tt.wantRole)
				}
				want := f.perms.ForKind(rec.Token.Kind, tt.wantRole)
				if tt.wantPerms != nil {
					want = keyward.NewPermissions(tt.wantPerms...)
				}
				if !equal(v.Permissions, want) {
					t.Errorf("%s: got permissions %v, want %v", pass, v.Permissions, want)
				}
			}
			if s := f.cache.Stats(); s.Misses != 1 || s.Hits != 1 || s.Entries != 1 {
				t.Errorf("stats: got %+v, want 1 miss, 1 hit, 1 entry", s)
			}
		})
	}
}

func equal(a, b keyward.Permissions) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The record a verdict rebuilds is the one that was read, without the
// owner's password hash.
func TestVerdictToken(t *testing.T) {
	f := newFixture(t)
	secret, rec := f.pat(keyward.RoleMember, func(r *verify.Record) {
		r.Token.Description = "nightly builds"
		r.Token.ExpiresAt = ptr(now.Add(24 * time.Hour).Truncate(time.Microsecond))
		r.Token.LastUsedAt, r.Token.LastUsedIP = ptr(now.Add(-time.Minute)), "10.0.0.1"
		r.Token.Scopes = []keyward.Scope{{ID: "scp_1", EntityType: "monitor", EntityID: "*", Operations: []string{"read"}}}
		r.Token.RateLimit = 50
		r.Token.Generation = 2
	})
	v := f.verify(t, secret, netip.Addr{})
	got := v.Token()
	want := *rec.Token
	if got.ID != want.ID || got.Kind != want.Kind || got.OrgID != want.OrgID || got.UserID != want.UserID ||
		got.CreatedBy != want.CreatedBy || got.Name != want.Name || got.Description != want.Description ||
		got.Source != want.Source || got.Display != want.Display || !got.CreatedAt.Equal(want.CreatedAt) ||
		!got.ExpiresAt.Equal(*want.ExpiresAt) || !got.LastUsedAt.Equal(*want.LastUsedAt) || got.LastUsedIP != want.LastUsedIP ||
		got.RevokedAt != nil || got.Generation != 2 || got.RateLimit != 50 || got.FamilyID != want.ID ||
		got.Hash != want.Hash || len(got.Scopes) != 1 || got.State != keyward.StatusActive {
		t.Errorf("Token: got %+v, want %+v", got, want)
	}
	if u := v.User(); u == nil || u.ID != f.user.ID || u.PasswordHash != "" {
		t.Errorf("User: got %+v, want the owner without a password hash", u)
	}
	if !v.ScopeAllows("monitor", "m-1", "read") || v.ScopeAllows("monitor", "m-1", "delete") {
		t.Error("ScopeAllows: want read allowed and delete refused")
	}
	if v.RateLimit() != 50 || v.ExpiresAt().IsZero() || v.NeverUsed() {
		t.Errorf("got rate limit %d, expires %v, never used %t", v.RateLimit(), v.ExpiresAt(), v.NeverUsed())
	}
}

func TestMalformedNeedsNoRead(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.pat(keyward.RoleOwner, nil)
	bad := secret[:len(secret)-1] + string("01"[(secret[len(secret)-1]+1)%2])
	for _, s := range []string{"", "kw_pat_short", bad, "short_key", "has a space in it, long", strings.Repeat("x", verify.MaxKeyLen+1)} {
		v, err := f.cache.Verify(context.Background(), s, netip.Addr{}, now)
		if v.Code != verify.Malformed || keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
			t.Errorf("Verify(malformed): got %v, %v; want Malformed and unauthorized", v.Code, err)
		}
	}
	if n := f.store.calls.Load(); n != 0 {
		t.Errorf("malformed strings read the store %d times, want 0", n)
	}
}

// A string in another system's form may be an imported key: it is looked
// up once, and its miss remembered.
func TestForeignKeyLookedUpOnce(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.pat(keyward.RoleOwner, nil)
	foreign := "gh_pat_" + secret[7:]
	for range 3 {
		if v, err := f.cache.Verify(context.Background(), foreign, netip.Addr{}, now); v.Code != verify.NotFound || err != nil {
			t.Fatalf("Verify(foreign): got %v, %v; want NotFound", v.Code, err)
		}
	}
	if n := f.store.calls.Load(); n != 1 {
		t.Errorf("a foreign string read the store %d times, want once", n)
	}
}

// A well-formed string with no token is remembered as missing; a feed
// entry for a token created with that hash, from any node, ends that.
func TestMissingUndoneByCreate(t *testing.T) {
	f := newFixture(t)
	secret := f.format.New(keyward.KindPAT)
	for range 3 {
		if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.NotFound {
			t.Fatalf("unknown token: got %v, want NotFound", v.Code)
		}
	}
	if n := f.store.calls.Load(); n != 1 {
		t.Fatalf("unknown token read the store %d times, want 1", n)
	}
	if s := f.cache.Stats(); s.NegativeHits != 2 || s.Missing != 1 {
		t.Fatalf("stats: got %+v, want 2 negative hits and 1 missing", s)
	}
	_, rec := f.pat(keyward.RoleMember, nil)
	f.store.put(secret, rec) // the token now exists under this secret
	rec.Token.Hash = keyward.HashToken(secret)
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.NotFound {
		t.Fatalf("before the feed entry: got %v, want the remembered NotFound", v.Code)
	}
	f.cache.Apply(&keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, TokenID: rec.Token.ID, UserID: f.user.ID, Hash: rec.Token.Hash[:]})
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Valid {
		t.Fatalf("after the create entry: got %v, want Valid", v.Code)
	}
}

// The missing are bounded.
func TestMissingBounded(t *testing.T) {
	f := newFixture(t)
	f.cache = verify.New(f.format, f.perms, f.store, verify.Options{MaxMissing: 512})
	for range 5000 {
		f.verify(t, f.format.New(keyward.KindPAT), netip.Addr{})
	}
	if s := f.cache.Stats(); s.Missing > 512 || s.Missing == 0 {
		t.Fatalf("remembered %d missing, want at most 512", s.Missing)
	}
}

// Each kind of feed entry evicts what it names, and only that.
func TestApply(t *testing.T) {
	f := newFixture(t)
	other := &keyward.User{ID: "usr_2"}
	a, ra := f.pat(keyward.RoleMember, nil)
	b, _ := f.pat(keyward.RoleMember, func(r *verify.Record) {
		r.Token.UserID, r.Membership.UserID, r.User = other.ID, other.ID, other
	})
	reads := func() int64 { return f.store.calls.Load() }
	warm := func() {
		f.verify(t, a, netip.Addr{})
		f.verify(t, b, netip.Addr{})
	}
	warm()
	tests := []struct {
		name   string
		change keyward.Change
		reread int64 // how many of a and b are read again
	}{
		{"token by hash", keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, TokenID: ra.Token.ID, Hash: ra.Token.Hash[:]}, 1},
		{"token without hash: its owner's tokens", keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, TokenID: ra.Token.ID, UserID: f.user.ID}, 1},
		{"member", keyward.Change{Kind: keyward.ChangeMember, OrgID: f.org.ID, UserID: f.user.ID}, 1},
		{"member of another org", keyward.Change{Kind: keyward.ChangeMember, OrgID: "org_2", UserID: f.user.ID}, 0},
		{"policy", keyward.Change{Kind: keyward.ChangePolicy, OrgID: f.org.ID}, 2},
		{"policy of another org", keyward.Change{Kind: keyward.ChangePolicy, OrgID: "org_2"}, 0},
		{"unknown kind", keyward.Change{Kind: "future"}, 2},
	}
	for _, tt := range tests {
		before := reads()
		f.cache.Apply(&tt.change)
		warm()
		if got := reads() - before; got != tt.reread {
			t.Errorf("%s: %d tokens read again, want %d", tt.name, got, tt.reread)
		}
	}
}

// A change applied while a miss is reading is never undone by what that
// read saw.
func TestChangeDuringRead(t *testing.T) {
	f := newFixture(t)
	secret, rec := f.pat(keyward.RoleMember, nil)
	var once sync.Once
	f.store.before = func() {
		once.Do(func() {
			// The read has begun; a revocation commits and its entry is
			// applied before the read's answer reaches the cache.
			f.cache.Apply(&keyward.Change{Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: rec.Token.Hash[:]})
		})
	}
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Valid {
		t.Fatalf("first: got %v, want Valid (as read)", v.Code)
	}
	f.store.mu.Lock()
	rec.Token.RevokedAt = ptr(now)
	f.store.mu.Unlock()
	if v := f.verify(t, secret, netip.Addr{}); v.Code != verify.Revoked {
		t.Fatalf("second: got %v, want Revoked: the stale read must not have been cached", v.Code)
	}
}

// Concurrent misses for one token share one read.
func TestConcurrentMissesShareOneRead(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.pat(keyward.RoleMember, nil)
	const n = 32
	// The read waits until every verification has missed, so that all of
	// them are waiting on it.
	f.store.before = func() {
		deadline := time.Now().Add(10 * time.Second)
		for f.cache.Stats().Misses < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	var wg sync.WaitGroup
	codes := make([]verify.Code, n)
	for i := range n {
		wg.Go(func() {
			v, err := f.cache.Verify(context.Background(), secret, netip.Addr{}, now)
			if err != nil {
				t.Error(err)
			}
			codes[i] = v.Code
		})
	}
	wg.Wait()
	if s := f.cache.Stats(); s.Misses != n {
		t.Fatalf("got %d misses, want %d concurrent ones", s.Misses, n)
	}
	if calls := f.store.calls.Load(); calls != 1 {
		t.Errorf("%d concurrent misses read the store %d times, want once", n, calls)
	}
	for i, c := range codes {
		if c != verify.Valid {
			t.Errorf("verification %d: got %v, want Valid", i, c)
		}
	}
}

// A failed read is an error, and is not remembered.
func TestReadFailure(t *testing.T) {
	f := newFixture(t)
	secret, _ := f.pat(keyward.RoleMember, nil)
	failing := &failingLoader{err: errors.New("database is down")}
	c := verify.New(f.format, f.perms, failing, verify.Options{})
	if _, err := c.Verify(context.Background(), secret, netip.Addr{}, now); err == nil {
		t.Fatal("Verify with a failing store: got no error")
	}
	failing.err = nil
	failing.rec, _ = f.store.LoadToken(context.Background(), keyward.HashToken(secret))
	if v, err := c.Verify(context.Background(), secret, netip.Addr{}, now); err != nil || v.Code != verify.Valid {
		t.Fatalf("Verify after the store is back: got %v, %v; want Valid", v.Code, err)
	}
}

type failingLoader struct {
	err error
	rec *verify.Record
}

func (l *failingLoader) LoadToken(context.Context, keyward.Hash) (*verify.Record, error) {
	return l.rec, l.err
}

// A read is cached when it saw every change applied while it ran (the
// feed entry of a mint that the read already sees does not spoil it),
// and not when a change it could not see was applied meanwhile.
func TestReadKnowsItsSeq(t *testing.T) {
	f := newFixture(t)
	secret, rec := f.pat(keyward.RoleMember, nil)
	f.store.seq.Store(10)
	applyDuring := func(seq int64) {
		var once sync.Once
		f.store.before = func() {
			once.Do(func() {
				f.cache.Apply(&keyward.Change{Seq: seq, Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: rec.Token.Hash[:]})
			})
		}
	}
	applyDuring(10) // the mint's own entry: the read sees it
	f.verify(t, secret, netip.Addr{})
	calls := f.store.calls.Load()
	f.verify(t, secret, netip.Addr{})
	if f.store.calls.Load() != calls {
		t.Fatal("a read that saw the change applied during it was not cached")
	}

	f.cache.Apply(&keyward.Change{Seq: 11, Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: rec.Token.Hash[:]})
	f.store.seq.Store(11)
	applyDuring(12) // a change committed after the read's snapshot
	f.verify(t, secret, netip.Addr{})
	calls = f.store.calls.Load()
	f.verify(t, secret, netip.Addr{})
	if f.store.calls.Load() == calls {
		t.Fatal("a read older than a change applied during it was cached")
	}

	// Likewise for a member change, and for a miss.
	f.store.before = nil
	f.store.seq.Store(20)
	unknown := f.format.New(keyward.KindPAT)
	var once sync.Once
	f.store.before = func() {
		once.Do(func() {
			f.cache.Apply(&keyward.Change{Seq: 21, Kind: keyward.ChangeMember, OrgID: f.org.ID, UserID: f.user.ID})
		})
	}
	f.verify(t, unknown, netip.Addr{})
	if s := f.cache.Stats(); s.Missing != 0 {
		t.Fatalf("a miss older than a change applied during it was remembered: %+v", s)
	}
}

// Under concurrent verifications, misses and feed entries, no
// verification that begins after a revocation's entry is applied says
// the token is valid.
func TestNoStaleVerdictUnderConcurrency(t *testing.T) {
	f := newFixture(t)
	const n = 200
	secrets := make([]string, n)
	recs := make([]*verify.Record, n)
	for i := range n {
		secrets[i], recs[i] = f.pat(keyward.RoleMember, nil)
	}
	var applied [n]atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for j := w; ; j = (j + 7) % n {
				select {
				case <-stop:
					return
				default:
				}
				was := applied[j].Load()
				v, err := f.cache.Verify(context.Background(), secrets[j], netip.Addr{}, now)
				if err != nil {
					t.Error(err)
					return
				}
				if was && v.Code == verify.Valid {
					t.Errorf("token %d: valid after its revocation was applied", j)
					return
				}
			}
		})
	}
	// Unrelated entries, with and without sequence numbers, keep coming.
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			f.cache.Apply(&keyward.Change{Seq: f.store.seq.Load(), Kind: keyward.ChangePolicy, OrgID: "org_other"})
			time.Sleep(50 * time.Microsecond)
		}
	})
	for i := range n {
		f.store.mu.Lock()
		recs[i].Token.RevokedAt = ptr(now)
		seq := f.store.seq.Add(1)
		f.store.mu.Unlock()
		f.cache.Apply(&keyward.Change{Seq: seq, Kind: keyward.ChangeToken, OrgID: f.org.ID, Hash: recs[i].Token.Hash[:]})
		applied[i].Store(true)
		if v := f.verify(t, secrets[i], netip.Addr{}); v.Code != verify.Revoked {
			t.Fatalf("token %d right after its revocation: got %v, want Revoked", i, v.Code)
		}
	}
	close(stop)
	wg.Wait()
}
