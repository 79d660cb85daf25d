package sqlstore

import (
	"context"
	"time"

	"github.com/keyward/keyward"
)

// AppendChange appends a change-feed entry and sets its Seq. Where the
// dialect asks for it, it first takes the change-feed lock, held until the
// transaction ends, so that entries become visible in the order of their
// sequence numbers.
func (tx *tx) AppendChange(ctx context.Context, c *keyward.Change) (err error) {
	defer wrap(&err, "AppendChange(%q)", c.Kind)
	if tx.d.LockChanges != "" {
		if _, err := tx.tx.ExecContext(ctx, tx.d.LockChanges); err != nil {
			return err
		}
	}
	return tx.tx.QueryRowContext(ctx, `
		INSERT INTO changes (time, kind, org_id, token_id, user_id, hash)
		VALUES ($1, $2, $3, $4, $5, $6)
		RETURNING seq`,
		micros(c.Time), c.Kind, c.OrgID, c.TokenID, c.UserID, nullBytes(c.Hash)).
		Scan(&c.Seq)
}

// FindChanges returns the entries after seq, oldest first, at most limit
// of them (all of them when limit is 0).
func (tx *tx) FindChanges(ctx context.Context, after int64, limit int) (_ []*keyward.Change, err error) {
	defer wrap(&err, "FindChanges(%d, %d)", after, limit)
	var q query
	q.add("seq > ?", after)
	stmt := `SELECT seq, time, kind, org_id, token_id, user_id, hash FROM changes` + q.clause() + ` ORDER BY seq`
	if limit > 0 {
		stmt += ` LIMIT ` + q.arg(limit)
	}
	rows, err := tx.tx.QueryContext(ctx, stmt, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*keyward.Change{}
	for rows.Next() {
		var c keyward.Change
		var at int64
		if err := rows.Scan(&c.Seq, &at, &c.Kind, &c.OrgID, &c.TokenID, &c.UserID, &c.Hash); err != nil {
			return nil, err
		}
		c.Time = fromMicros(at)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// LastChangeSeq returns the sequence number of the newest entry, 0 when the
// feed never had one. When every entry has been pruned it is the highest
// pruned one, so that a follower starting there does not count what was
// pruned as missed.
func (tx *tx) LastChangeSeq(ctx context.Context) (seq int64, err error) {
	defer wrap(&err, "LastChangeSeq")
	err = tx.tx.QueryRowContext(ctx, `
		SELECT COALESCE(MAX(seq), 0) FROM (
			SELECT MAX(seq) AS seq FROM changes
			UNION ALL SELECT seq FROM changes_pruned
		) AS last`).Scan(&seq)
	return seq, err
}

// PrunedChangeSeq returns the highest sequence number pruned from the
// feed, 0 before the first prune.
func (tx *tx) PrunedChangeSeq(ctx context.Context) (seq int64, err error) {
	defer wrap(&err, "PrunedChangeSeq")
	err = tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes_pruned`).Scan(&seq)
	return seq, err
}

// PruneChanges deletes the oldest entries, at most limit of them, up to
// the first one written at or after before, raises the pruned sequence
// number to the last one deleted, and returns how many it deleted. Only a
// run of the oldest entries is deleted, so every entry left is newer than
// the pruned sequence number, even where nodes' clocks disagree on times.
func (tx *tx) PruneChanges(ctx context.Context, before time.Time, limit int) (_ int64, err error) {
	defer wrap(&err, "PruneChanges(%d)", limit)
	if limit <= 0 {
		return 0, nil
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT seq, time FROM changes ORDER BY seq LIMIT $1`, limit)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var through int64
	for rows.Next() {
		var seq, at int64
		if err := rows.Scan(&seq, &at); err != nil {
			return 0, err
		}
		if at >= micros(before) {
			break
		}
		through = seq
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	rows.Close()
	if through == 0 {
		return 0, nil
	}
	res, err := tx.tx.ExecContext(ctx, `DELETE FROM changes WHERE seq <= $1`, through)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.tx.ExecContext(ctx, `UPDATE changes_pruned SET seq = $1 WHERE seq < $1`, through); err != nil {
		return 0, err
	}
	return n, nil
}
