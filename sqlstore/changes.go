package sqlstore

import (
	"context"

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
// feed is empty.
func (tx *tx) LastChangeSeq(ctx context.Context) (seq int64, err error) {
	defer wrap(&err, "LastChangeSeq")
	err = tx.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&seq)
	return seq, err
}
