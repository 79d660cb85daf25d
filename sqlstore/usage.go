package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keyward/keyward"
)

// AddTokenUsage adds hourly use counts to what is stored, a few hundred
// (token, hour) rows per statement. Counts of tokens that no longer exist
// are kept until they are pruned.
func (tx *tx) AddTokenUsage(ctx context.Context, counts []keyward.UsageCount) (err error) {
	defer wrap(&err, "AddTokenUsage(%d counts)", len(counts))
	if len(counts) == 0 {
		return nil
	}
	// One order for every writer, so that concurrent batches on
	// PostgreSQL take row locks in the same order and cannot deadlock.
	// One statement may not write a row twice: counts of one (token,
	// hour) are added up first.
	counts = slices.DeleteFunc(slices.Clone(counts), func(c keyward.UsageCount) bool { return c.Count <= 0 })
	for i := range counts {
		counts[i].Hour = keyward.HourOf(counts[i].Hour)
	}
	slices.SortFunc(counts, func(a, b keyward.UsageCount) int {
		return cmp.Or(cmp.Compare(a.TokenID, b.TokenID), a.Hour.Compare(b.Hour))
	})
	merged := counts[:0]
	for _, c := range counts {
		if n := len(merged); n > 0 && merged[n-1].TokenID == c.TokenID && merged[n-1].Hour.Equal(c.Hour) {
			merged[n-1].Count += c.Count
			continue
		}
		merged = append(merged, c)
	}
	counts = merged
	rows := make([][]any, len(counts))
	for i, c := range counts {
		rows[i] = []any{c.TokenID, micros(c.Hour), c.Count}
	}
	const upsert = `
		INSERT INTO token_usage (token_id, hour, uses) VALUES %s
		ON CONFLICT (token_id, hour) DO UPDATE SET uses = token_usage.uses + excluded.uses`
	return tx.writeRows(ctx, fmt.Sprintf(upsert, "($1, $2, $3)"), upsert,
		[]string{"", "", ""}, rows)
}

// FindTokenUsage returns the hourly counts of the given tokens from since
// on, in one query, ordered by token and hour.
func (tx *tx) FindTokenUsage(ctx context.Context, ids []string, since time.Time) (_ []keyward.UsageCount, err error) {
	defer wrap(&err, "FindTokenUsage(%d tokens)", len(ids))
	out := []keyward.UsageCount{}
	if len(ids) == 0 {
		return out, nil
	}
	var q query
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q.add(in("token_id", len(args)), args...)
	q.add("hour >= ?", micros(since))
	rows, err := tx.tx.QueryContext(ctx, `SELECT token_id, hour, uses FROM token_usage`+q.clause()+` ORDER BY token_id, hour`, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c keyward.UsageCount
		var hour int64
		if err := rows.Scan(&c.TokenID, &hour, &c.Count); err != nil {
			return nil, err
		}
		c.Hour = fromMicros(hour)
		out = append(out, c)
	}
	return out, rows.Err()
}

// PruneTokenUsage deletes the counts of hours before before, and returns
// how many it deleted.
func (tx *tx) PruneTokenUsage(ctx context.Context, before time.Time) (_ int64, err error) {
	defer wrap(&err, "PruneTokenUsage")
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM token_usage WHERE hour < $1`, micros(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
