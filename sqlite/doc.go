// Package sqlite opens keyward's database on a SQLite file, with the pure-Go
// driver modernc.org/sqlite, and keeps its schema up to date.
//
// Open returns a *sqlstore.DB (a service.Store) after running the embedded
// migrations (migrations/NNNN_name.sql), each in a transaction and recorded
// in schema_migrations; Migrate runs the migrations alone, for `keyward
// migrate`; Backup and BackupFile copy a live database to a file.
//
// The file is opened in WAL mode with foreign keys on. Writes go through
// one connection whose transactions begin IMMEDIATE, so concurrent Updates
// queue in Go instead of failing with SQLITE_BUSY; reads use a pool of
// query-only connections that see a snapshot and never wait for writers.
// A busy timeout covers other processes on the same file (keyward migrate
// or backup beside a running server).
//
// Durability: commits use synchronous=FULL, so an acknowledged write
// survives the process being killed and the machine losing power.
package sqlite
