package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

var _ service.Tx = (*tx)(nil)

// tx is one transaction; its methods are the service.Tx interface, one
// file per table.
type tx struct {
	tx  *sql.Tx
	d   *Dialect
	now func() time.Time
}

// wrap prefixes a failure with the name of the operation, pkgsite-style:
// defer wrap(&err, "FindTokenByID(%q)", id). Errors of the domain (not
// found, conflict, invalid) are left as they are: their message is written
// for people.
func wrap(errp *error, format string, args ...any) {
	if *errp == nil {
		return
	}
	var e *keyward.Error
	if errors.As(*errp, &e) {
		return
	}
	*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
}

// query builds a statement with numbered placeholders from conditions
// written with "?".
type query struct {
	where []string
	args  []any
}

// add appends a condition; each "?" in it takes the next of args.
func (q *query) add(cond string, args ...any) {
	var b strings.Builder
	i := 0
	for _, c := range cond {
		if c == '?' {
			q.args = append(q.args, args[i])
			i++
			b.WriteString("$" + strconv.Itoa(len(q.args)))
			continue
		}
		b.WriteRune(c)
	}
	q.where = append(q.where, b.String())
}

// arg appends an argument that a statement names itself, and returns its
// placeholder.
func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return "$" + strconv.Itoa(len(q.args))
}

// clause returns " WHERE c1 AND c2 ...", or "" with no conditions.
func (q *query) clause() string {
	if len(q.where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(q.where, " AND ")
}

// in returns "col IN (?, ?, ...)" for n values, to pass to add.
func in(col string, n int) string {
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// batchRows is the most rows one multi-row statement writes where the
// dialect sets no BatchRows: 3 columns of 500 rows stay far below the
// bound parameters either backend allows.
const batchRows = 500

// writeRows writes rows, each a row of values of the columns types (see
// valuesList): with many, a statement whose VALUES list is written %s,
// several hundred rows at a time; or, where the dialect's BatchRows is 1,
// with one, the same for one row with its own placeholders, prepared once
// and run once per row.
func (tx *tx) writeRows(ctx context.Context, one, many string, types []string, rows [][]any) error {
	n := batchRows
	if tx.d.BatchRows > 0 {
		n = tx.d.BatchRows
	}
	if n == 1 {
		prep, err := tx.tx.PrepareContext(ctx, one)
		if err != nil {
			return err
		}
		defer prep.Close()
		for _, row := range rows {
			if _, err := prep.ExecContext(ctx, row...); err != nil {
				return err
			}
		}
		return nil
	}
	for chunk := range slices.Chunk(rows, n) {
		args := make([]any, 0, len(types)*len(chunk))
		for _, row := range chunk {
			args = append(args, row...)
		}
		if _, err := tx.tx.ExecContext(ctx, fmt.Sprintf(many, tx.valuesList(len(chunk), types...)), args...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList returns the rows of a VALUES list for n rows of the given
// columns, "($1, $2), ($3, $4), ...": a column with a type is cast to it
// (as a VALUES list in FROM gives its parameters no type of its own on
// PostgreSQL), one with "" is left to the statement.
func (tx *tx) valuesList(n int, types ...string) string {
	var b strings.Builder
	k := 0
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, t := range types {
			if j > 0 {
				b.WriteString(", ")
			}
			k++
			p := tx.d.param(k)
			if t != "" {
				p = "CAST(" + p + " AS " + t + ")"
			}
			b.WriteString(p)
		}
		b.WriteByte(')')
	}
	return b.String()
}
