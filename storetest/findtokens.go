package storetest

import (
	"cmp"
	"context"
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// newestFirst returns the ids of tokens in the order lists give them: by
// created_at as stored, then id, descending.
func newestFirst(tokens []*keyward.Token) []string {
	sorted := slices.Clone(tokens)
	slices.SortFunc(sorted, func(a, b *keyward.Token) int {
		return cmp.Or(stored(b.CreatedAt).Compare(stored(a.CreatedAt)), cmp.Compare(b.ID, a.ID))
	})
	return tokenIDs(sorted)
}

// allPages lists every page of f, checking each page's size, and returns
// the ids in the order listed.
func allPages(t *testing.T, tx service.Tx, f keyward.TokenFilter, pageSize int) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("FindTokens with limit %d: more than 1000 pages", f.Limit)
		}
		page, next, err := tx.FindTokens(t.Context(), f)
		noErr(t, "FindTokens", err)
		ids = append(ids, tokenIDs(page)...)
		if next == "" {
			if len(page) > pageSize {
				t.Errorf("FindTokens with limit %d: last page has %d tokens, want at most %d", f.Limit, len(page), pageSize)
			}
			return ids
		}
		if len(page) != pageSize {
			t.Errorf("FindTokens with limit %d: a page before the last has %d tokens, want %d", f.Limit, len(page), pageSize)
		}
		f.Cursor = next
	}
}

func testFindTokensPaging(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	seedUser(t, s, "usr_1")
	seedUser(t, s, "usr_2")
	// 250 tokens of usr_1 in org_a, in threes created in the same
	// microsecond (so the id breaks ties), stored in random order, and
	// others around them that lists must leave out.
	var mine []*keyward.Token
	for i := range 250 {
		mine = append(mine, newToken("org_a", "usr_1", at(i/3).Add(time.Duration(i%2)*time.Nanosecond)))
	}
	shuffled := slices.Clone(mine)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for i := range 20 {
		shuffled = append(shuffled, newToken("org_b", "usr_1", at(i)), newToken("org_a", "usr_2", at(i)))
	}
	createTokens(t, s, shuffled...)
	want := newestFirst(mine)

	tests := []struct {
		limit, pageSize int
	}{
		{1, 1},
		{7, 7},
		{50, 50},
		{0, keyward.DefaultPageSize},
		{250, keyward.MaxPageSize},
		{-3, keyward.DefaultPageSize},
		{1000, keyward.MaxPageSize},
	}
	for _, tt := range tests {
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			f := keyward.TokenFilter{OrgID: "org_a", UserID: "usr_1", Now: t0, Limit: tt.limit}
			got := allPages(t, tx, f, tt.pageSize)
			seen := map[string]bool{}
			for _, id := range got {
				if seen[id] {
					t.Errorf("limit %d: token %s listed twice", tt.limit, id)
				}
				seen[id] = true
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: got %d tokens in another order or set than the %d wanted", tt.limit, len(got), len(want))
			}
			return nil
		})
	}

	// A page's cursor stays good while newer tokens are added.
	var next string
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		page, n, err := tx.FindTokens(ctx, keyward.TokenFilter{OrgID: "org_a", UserID: "usr_1", Now: t0, Limit: 100})
		noErr(t, "FindTokens", err)
		if len(page) != 100 || n == "" {
			t.Fatalf("first page: got %d tokens and cursor %q, want 100 and a cursor", len(page), n)
		}
		next = n
		return nil
	})
	createTokens(t, s, newToken("org_a", "usr_1", at(1000)))
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		rest := allPages(t, tx, keyward.TokenFilter{OrgID: "org_a", UserID: "usr_1", Now: t0, Limit: 100, Cursor: next}, 100)
		if !slices.Equal(rest, want[100:]) {
			t.Errorf("pages after the first: got %d tokens, want the %d after it", len(rest), len(want)-100)
		}
		return nil
	})
}

func testFindTokensFilters(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedOrg(t, s, "org_b")
	seedUser(t, s, "usr_1")
	seedUser(t, s, "usr_2")
	kinds := []keyward.Kind{keyward.KindPAT, keyward.KindOAuth}
	var all []*keyward.Token
	for i := range 24 {
		org := []string{"org_a", "org_b"}[i%2]
		user := []string{"usr_1", "usr_2", ""}[i%3]
		tok := newToken(org, user, at(i))
		tok.Kind = kinds[(i/6)%2]
		if user == "" {
			tok.Kind = keyward.OrgKinds[(i/6)%3]
		}
		all = append(all, tok)
	}
	createTokens(t, s, all...)
	tests := []struct {
		name string
		f    keyward.TokenFilter
		keep func(*keyward.Token) bool
	}{
		{"everything", keyward.TokenFilter{}, func(*keyward.Token) bool { return true }},
		{"one org", keyward.TokenFilter{OrgID: "org_a"}, func(t *keyward.Token) bool { return t.OrgID == "org_a" }},
		{"one user", keyward.TokenFilter{UserID: "usr_2"}, func(t *keyward.Token) bool { return t.UserID == "usr_2" }},
		{"one org, one user", keyward.TokenFilter{OrgID: "org_b", UserID: "usr_1"}, func(t *keyward.Token) bool {
			return t.OrgID == "org_b" && t.UserID == "usr_1"
		}},
		{"one kind", keyward.TokenFilter{Kinds: []keyward.Kind{keyward.KindOAuth}}, func(t *keyward.Token) bool {
			return t.Kind == keyward.KindOAuth
		}},
		{"org kinds in one org", keyward.TokenFilter{OrgID: "org_a", Kinds: keyward.OrgKinds}, func(t *keyward.Token) bool {
			return t.OrgID == "org_a" && !t.Kind.Personal()
		}},
		{"no match", keyward.TokenFilter{OrgID: "org_missing"}, func(*keyward.Token) bool { return false }},
	}
	for _, tt := range tests {
		var want []*keyward.Token
		for _, tok := range all {
			if tt.keep(tok) {
				want = append(want, tok)
			}
		}
		view(t, s, func(ctx context.Context, tx service.Tx) error {
			tt.f.Now, tt.f.Limit = t0, 5
			if got := allPages(t, tx, tt.f, 5); !slices.Equal(got, newestFirst(want)) {
				t.Errorf("%s: got %v, want %v", tt.name, got, newestFirst(want))
			}
			return nil
		})
	}
}

func testFindTokensStatus(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	now := at(100)
	mk := func(n int, expires, revoked *time.Time) *keyward.Token {
		tok := newToken("org_a", "usr_1", at(n))
		tok.ExpiresAt, tok.RevokedAt = expires, revoked
		return tok
	}
	var (
		noExpiry      = mk(1, nil, nil)
		expiresLater  = mk(2, ptr(now.Add(time.Microsecond)), nil)
		expiresNow    = mk(3, ptr(now), nil)
		expired       = mk(4, ptr(at(50)), nil)
		revoked       = mk(5, nil, ptr(at(60)))
		revokedLater  = mk(6, ptr(at(200)), ptr(at(60)))
		revokedExpird = mk(7, ptr(at(50)), ptr(at(40)))
	)
	createTokens(t, s, noExpiry, expiresLater, expiresNow, expired, revoked, revokedLater, revokedExpird)
	all := []*keyward.Token{noExpiry, expiresLater, expiresNow, expired, revoked, revokedLater, revokedExpird}
	tests := []struct {
		status keyward.Status
		want   []*keyward.Token
	}{
		{keyward.StatusActive, []*keyward.Token{noExpiry, expiresLater}},
		{keyward.StatusExpired, []*keyward.Token{expiresNow, expired}},
		{keyward.StatusRevoked, []*keyward.Token{revoked, revokedLater, revokedExpird}},
		{"all", all},
		{"", all},
	}
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		for _, tt := range tests {
			got, _, err := tx.FindTokens(ctx, keyward.TokenFilter{OrgID: "org_a", Status: tt.status, Now: now})
			noErr(t, "FindTokens", err)
			if ids := tokenIDs(got); !slices.Equal(ids, newestFirst(tt.want)) {
				t.Errorf("status %q: got %v, want %v", tt.status, ids, newestFirst(tt.want))
			}
			// The derived status agrees with the filter.
			for _, tok := range got {
				if tt.status != "" && tt.status != "all" && tok.BaseStatus(now) != tt.status {
					t.Errorf("status %q: token %s has status %q", tt.status, tok.ID, tok.BaseStatus(now))
				}
			}
		}
		_, _, err := tx.FindTokens(ctx, keyward.TokenFilter{Status: "blocked", Now: now})
		wantCode(t, "FindTokens with status blocked", err, keyward.EINVALID)
		return nil
	})
}

func testFindTokensBadCursor(t *testing.T, s service.Store) {
	seedOrg(t, s, "org_a")
	seedUser(t, s, "usr_1")
	createTokens(t, s, newToken("org_a", "usr_1", t0), newToken("org_a", "usr_1", at(1)))
	var audit string
	update(t, s, func(ctx context.Context, tx service.Tx) error {
		for range 2 {
			if err := tx.AppendAudit(ctx, &keyward.AuditEvent{Time: t0, OrgID: "org_a", Action: keyward.ActionTokenCreated}); err != nil {
				return err
			}
		}
		_, next, err := tx.FindAudit(ctx, keyward.AuditFilter{Limit: 1})
		audit = next
		return err
	})
	b64 := base64.RawURLEncoding.EncodeToString
	view(t, s, func(ctx context.Context, tx service.Tx) error {
		_, next, err := tx.FindTokens(ctx, keyward.TokenFilter{Limit: 1, Now: t0})
		noErr(t, "FindTokens", err)
		for _, c := range []string{"!!!", "not a cursor", b64([]byte("garbage")), b64([]byte("t1.x.tok_1")), b64([]byte("t1.123.")), audit} {
			_, _, err := tx.FindTokens(ctx, keyward.TokenFilter{Cursor: c, Now: t0})
			wantCode(t, "FindTokens with cursor "+c, err, keyward.EINVALID)
			if err != nil && keyward.ErrorMessage(err) != "invalid cursor" {
				t.Errorf("FindTokens with cursor %s: got message %q, want %q", c, keyward.ErrorMessage(err), "invalid cursor")
			}
		}
		for _, c := range []string{"!!!", b64([]byte("a1.x")), b64([]byte("a1.-4")), next} {
			_, _, err := tx.FindAudit(ctx, keyward.AuditFilter{Cursor: c})
			wantCode(t, "FindAudit with cursor "+c, err, keyward.EINVALID)
		}
		return nil
	})
}
