// Package postgres opens keyward's database on PostgreSQL, through pgx's
// database/sql driver, and keeps its schema up to date.
//
// Open returns a *sqlstore.DB (a service.Store) after running the embedded
// migrations (migrations/NNNN_name.sql), each in a transaction and recorded
// in schema_migrations; Migrate runs the migrations alone, for `keyward
// migrate`. Nodes that start together migrate one at a time: the run holds
// a session advisory lock on one connection.
//
// Update runs SERIALIZABLE transactions and runs them again after a
// serialization failure or a deadlock, so checks such as "the org keeps an
// owner" hold across nodes; View runs READ ONLY, REPEATABLE READ
// transactions, which see one snapshot and never fail to serialize.
// Appends to the change feed take a transaction advisory lock, so that
// sequence numbers commit in order and a node following the feed by
// sequence number never skips an entry.
package postgres
