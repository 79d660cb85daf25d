package verify_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// minter is a Loader that answers every hash with an active PAT of its
// own, as a store full of tokens would, without holding them: what the
// benchmarks measure is the cache alone.
type minter struct {
	org    *keyward.Org
	policy *keyward.Policy
	users  []*keyward.User
}

func newMinter(users int) *minter {
	m := &minter{org: &keyward.Org{ID: "org_bench", Slug: "bench", Name: "Bench"}}
	m.policy = &keyward.Policy{OrgID: m.org.ID}
	for i := range users {
		m.users = append(m.users, &keyward.User{ID: "usr_" + strconv.Itoa(100000+i), Email: "u" + strconv.Itoa(i) + "@example.com"})
	}
	return m
}

func (m *minter) LoadToken(_ context.Context, h keyward.Hash) (*verify.Record, error) {
	id := "tok_" + hex.EncodeToString(h[:10])
	u := m.users[(int(h[1])<<8|int(h[2]))%len(m.users)]
	exp := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	t := &keyward.Token{
		ID: id, Kind: keyward.KindPAT, OrgID: m.org.ID, UserID: u.ID, CreatedBy: u.ID,
		Name: "ci-" + id[4:8], Source: keyward.SourceCLI, Hash: h, Display: "kw_pat_3xA...9f2Q",
		CreatedAt: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), ExpiresAt: &exp,
		LastUsedAt: &last, LastUsedIP: "10.0.12.34", FamilyID: id,
	}
	return &verify.Record{Token: t, Org: m.org, Policy: m.policy, User: u,
		Membership: &keyward.Membership{OrgID: m.org.ID, UserID: u.ID, Role: keyward.RoleMember}}, nil
}

// benchSecrets returns n token strings.
func benchSecrets(format *keyward.TokenFormat, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = format.New(keyward.KindPAT)
	}
	return out
}

// BenchmarkVerifyCached verifies cached tokens in turn: parse, checksum,
// SHA-256, shard look-up and verdict. The budget is under 1 µs and at most
// 3x BenchmarkBareHashAndMap, with no allocation.
func BenchmarkVerifyCached(b *testing.B) {
	benchVerifyCached(b, 10_000, false)
}

// BenchmarkVerifyCachedBounded is BenchmarkVerifyCached on a cache that
// follows a feed under a staleness bound, as serve's is: each
// verification also reads the clock.
func BenchmarkVerifyCachedBounded(b *testing.B) {
	benchVerifyCached(b, 10_000, true)
}

// BenchmarkVerifyCachedMillion is BenchmarkVerifyCached with a million
// tokens cached; it also reports the memory they hold. It runs only with
// KEYWARD_BENCH_MILLION=1 (it takes a minute and 1 GB to set up).
func BenchmarkVerifyCachedMillion(b *testing.B) {
	if os.Getenv("KEYWARD_BENCH_MILLION") != "1" {
		b.Skip("set KEYWARD_BENCH_MILLION=1 to fill the cache with a million tokens")
	}
	benchVerifyCached(b, 1_000_000, false)
}

func benchVerifyCached(b *testing.B, n int, bounded bool) {
	format, _ := keyward.NewTokenFormat("kw")
	perms, _ := keyward.NewPermissionModel(nil)
	secrets := benchSecrets(format, n)
	ctx := context.Background()
	minter := newMinter(max(1, n/10))
	heapBefore, allocBefore := heapInUse()
	c := verify.New(format, perms, minter, verify.Options{})
	if bounded {
		c.SetMaxStaleness(time.Minute, false)
		fctx, cancel := context.WithCancel(ctx)
		done, err := c.Follow(fctx, &fakeFeed{}, verify.FollowOptions{Poll: time.Second})
		if err != nil {
			b.Fatal(err)
		}
		defer func() { cancel(); <-done }()
	}
	for _, s := range secrets {
		if v, err := c.Verify(ctx, s, netip.Addr{}, now); err != nil || v.Code != verify.Valid {
			b.Fatalf("filling: got %v, %v", v.Code, err)
		}
	}
	heapAfter, allocAfter := heapInUse()
	held, live := heapAfter-heapBefore, allocAfter-allocBefore
	if st := c.Stats(); st.Entries != n {
		b.Fatalf("cached %d tokens, want %d", st.Entries, n)
	}
	rss := rssBytes()
	ip := netip.MustParseAddr("10.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		v, _ := c.Verify(ctx, secrets[i], ip, now)
		if v.Code != verify.Valid {
			b.Fatal("not valid")
		}
		if i++; i == n {
			i = 0
		}
	}
	b.StopTimer()
	if st := c.Stats(); st.Misses != uint64(n) {
		b.Fatalf("got %d misses, want only the %d of filling", st.Misses, n)
	}
	// Reported after the loop: ResetTimer drops metrics reported before.
	b.ReportMetric(float64(live)/float64(n), "live-B/token")
	b.ReportMetric(float64(live)/(1<<20), "live-MB")
	b.ReportMetric(float64(held)/(1<<20), "heapinuse-MB")
	b.ReportMetric(float64(rss)/(1<<20), "rss-MB")
	runtime.KeepAlive(secrets)
	runtime.KeepAlive(c)
	runtime.KeepAlive(minter)
}

// BenchmarkBareHashAndMap is the floor verification is held against:
// SHA-256 of a token string and a look-up in a map of 10,000.
func BenchmarkBareHashAndMap(b *testing.B) { benchBare(b, 10_000) }

// BenchmarkBareHashAndMapMillion is the same floor with a million entries,
// beside BenchmarkVerifyCachedMillion (and under the same variable).
func BenchmarkBareHashAndMapMillion(b *testing.B) {
	if os.Getenv("KEYWARD_BENCH_MILLION") != "1" {
		b.Skip("set KEYWARD_BENCH_MILLION=1 to fill a map with a million tokens")
	}
	benchBare(b, 1_000_000)
}

func benchBare(b *testing.B, n int) {
	format, _ := keyward.NewTokenFormat("kw")
	secrets := benchSecrets(format, n)
	m := make(map[[32]byte]*keyward.Token, len(secrets))
	for _, s := range secrets {
		m[sha256.Sum256([]byte(s))] = &keyward.Token{}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if m[sha256.Sum256([]byte(secrets[i]))] == nil {
			b.Fatal("missing")
		}
		if i++; i == len(secrets) {
			i = 0
		}
	}
}

// BenchmarkVerifyParallel verifies cached tokens from every core at once.
func BenchmarkVerifyParallel(b *testing.B) {
	format, _ := keyward.NewTokenFormat("kw")
	perms, _ := keyward.NewPermissionModel(nil)
	secrets := benchSecrets(format, 10_000)
	c := verify.New(format, perms, newMinter(1000), verify.Options{})
	for _, s := range secrets {
		c.Verify(context.Background(), s, netip.Addr{}, now)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if v, _ := c.Verify(context.Background(), secrets[i], netip.Addr{}, now); v.Code != verify.Valid {
				b.Error("not valid")
				return
			}
			if i++; i == len(secrets) {
				i = 0
			}
		}
	})
}

// heapInUse returns, after a collection, the bytes of the heap's spans in
// use and the bytes of the objects alive in them.
func heapInUse() (inuse, alloc uint64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms.HeapAlloc
}

// rssBytes returns the process's resident set size from /proc, 0 where
// there is none.
func rssBytes() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
