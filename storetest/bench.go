package storetest

import (
	"context"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// Bench runs the storage benchmarks on the stores that open returns (one
// per benchmark, empty and migrated):
//
//   - Mint: one Update per token with what minting writes (the token, its
//     audit event, its change-feed entry), one after another; reports
//     tokens/s.
//   - FindTokens/first and FindTokens/middle: a page of 100 of one user's
//     10,000 tokens, the newest and one from the middle by cursor.
func Bench(b *testing.B, open func(b *testing.B) service.Store) {
	b.Run("Mint", func(b *testing.B) {
		s := open(b)
		seedOrg(b, s, "org_a")
		seedUser(b, s, "usr_1")
		ctx := b.Context()
		for b.Loop() {
			tok := newToken("org_a", "usr_1", t0)
			if err := s.Update(ctx, func(tx service.Tx) error { return mint(ctx, tx, tok) }); err != nil {
				b.Fatalf("Update: %v", err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tokens/s")
	})
	b.Run("FindTokens", func(b *testing.B) {
		s := open(b)
		seedOrg(b, s, "org_a")
		seedUser(b, s, "usr_1")
		seedUser(b, s, "usr_2")
		const total, batch = 10000, 1000
		for i := 0; i < total; i += batch {
			tokens := make([]*keyward.Token, 0, 2*batch)
			for j := range batch {
				tokens = append(tokens, newToken("org_a", "usr_1", at(i+j)), newToken("org_a", "usr_2", at(i+j)))
			}
			createTokens(b, s, tokens...)
		}
		f := keyward.TokenFilter{OrgID: "org_a", UserID: "usr_1", Status: keyward.StatusActive, Now: t0, Limit: 100}
		// The cursor of page 50.
		var middle string
		view(b, s, func(ctx context.Context, tx service.Tx) error {
			g := f
			for range 49 {
				_, next, err := tx.FindTokens(ctx, g)
				if err != nil {
					return err
				}
				g.Cursor = next
			}
			middle = g.Cursor
			return nil
		})
		for _, bb := range []struct{ name, cursor string }{{"first", ""}, {"middle", middle}} {
			b.Run(bb.name, func(b *testing.B) {
				f := f
				f.Cursor = bb.cursor
				ctx := b.Context()
				for b.Loop() {
					err := s.View(ctx, func(tx service.Tx) error {
						page, _, err := tx.FindTokens(ctx, f)
						if err == nil && len(page) != 100 {
							b.Fatalf("FindTokens: got %d tokens, want 100", len(page))
						}
						return err
					})
					if err != nil {
						b.Fatalf("View: %v", err)
					}
				}
			})
		}
	})
}
