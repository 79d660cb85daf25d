// Package sqlstore implements service.Store over database/sql, with one set
// of SQL for SQLite and PostgreSQL.
//
// Both backends accept the same queries: $1 placeholders, RETURNING,
// INSERT ... ON CONFLICT and row values. What differs between them (the
// isolation of transactions, how errors are told apart, the locks that
// serialise migrations and the change feed) is carried by a Dialect, which
// the sqlite and postgres packages provide along with their drivers.
//
// Storage conventions, the same on both backends:
//
//   - Times are BIGINT microseconds since the Unix epoch, UTC, and NULL
//     when absent; they read back as time.Time in UTC, truncated to the
//     microsecond.
//   - Permissions, scopes, allowed CIDRs, a policy's allowed kinds and
//     audit details are JSON in TEXT columns; a nil slice is stored as
//     NULL and an empty one as "[]", so the difference survives.
//   - A token's hash is a BLOB (BYTEA) with a unique index; its secret is
//     never stored.
//   - Deleting a token removes its row; the audit log keeps its history.
package sqlstore
