package storetest

import (
	"database/sql"
	"slices"
	"testing"

	"github.com/keyward/keyward/sqlstore"
)

// Migrations checks sqlstore.Migrate on an empty database with a backend's
// migrations ms and dialect d: they apply once and are recorded; a
// migration that fails part-way changes nothing and is not recorded; a
// later good one applies.
func Migrations(t *testing.T, db *sql.DB, d sqlstore.Dialect, ms []sqlstore.Migration) {
	t.Helper()
	ctx := t.Context()
	if len(ms) == 0 {
		t.Fatal("no migrations")
	}
	var all []int64
	for _, m := range ms {
		all = append(all, m.Version)
	}
	last := ms[len(ms)-1].Version
	recorded := func(want []int64) {
		t.Helper()
		rows, err := db.QueryContext(ctx, `SELECT version FROM schema_migrations ORDER BY version`)
		noErr(t, "reading schema_migrations", err)
		defer rows.Close()
		var got []int64
		for rows.Next() {
			var v int64
			noErr(t, "scanning schema_migrations", rows.Scan(&v))
			got = append(got, v)
		}
		noErr(t, "reading schema_migrations", rows.Err())
		if !slices.Equal(got, want) {
			t.Errorf("schema_migrations: got versions %v, want %v", got, want)
		}
	}

	status := func(what string, wantApplied int, wantUnknown []int64, ms []sqlstore.Migration) {
		t.Helper()
		states, unknown, err := sqlstore.MigrationStatus(ctx, db, d, ms)
		noErr(t, what+": MigrationStatus", err)
		n := 0
		for _, st := range states {
			if st.AppliedAt != nil {
				n++
			}
		}
		if len(states) != len(ms) || n != wantApplied || !slices.Equal(unknown, wantUnknown) {
			t.Errorf("%s: MigrationStatus gives %d states, %d applied, unknown %v; want %d, %d, %v", what, len(states), n, unknown, len(ms), wantApplied, wantUnknown)
		}
	}
	status("before Migrate", 0, nil, ms)

	applied, err := sqlstore.Migrate(ctx, db, d, ms)
	noErr(t, "first Migrate", err)
	status("after Migrate", len(ms), nil, ms)
	status("by an older keyward", len(ms)-1, []int64{last}, ms[:len(ms)-1])
	if !slices.Equal(applied, all) {
		t.Errorf("first Migrate: got versions %v applied, want %v", applied, all)
	}
	recorded(all)
	applied, err = sqlstore.Migrate(ctx, db, d, ms)
	noErr(t, "second Migrate", err)
	if len(applied) != 0 {
		t.Errorf("second Migrate: got versions %v applied, want none", applied)
	}

	bad := sqlstore.Migration{Version: last + 1, Name: "bad.sql", SQL: `
		CREATE TABLE migrate_test (a BIGINT);
		INSERT INTO migrate_test (a) VALUES (1);
		SELECT no_such_column FROM migrate_test;`}
	if _, err := sqlstore.Migrate(ctx, db, d, append(slices.Clone(ms), bad)); err == nil {
		t.Fatalf("Migrate with a failing migration: got no error, want one")
	}
	recorded(all)
	if _, err := db.ExecContext(ctx, `SELECT a FROM migrate_test`); err == nil {
		t.Errorf("after a failed migration: its table exists, want it rolled back")
	}

	good := sqlstore.Migration{Version: last + 1, Name: "good.sql", SQL: `
		CREATE TABLE migrate_test (a BIGINT);
		INSERT INTO migrate_test (a) VALUES (1);`}
	applied, err = sqlstore.Migrate(ctx, db, d, append(slices.Clone(ms), good))
	noErr(t, "Migrate with a good migration", err)
	if want := []int64{last + 1}; !slices.Equal(applied, want) {
		t.Errorf("Migrate with a good migration: got versions %v applied, want %v", applied, want)
	}
	recorded(append(all, last+1))
	var n int
	noErr(t, "reading the migrated table", db.QueryRowContext(ctx, `SELECT COUNT(*) FROM migrate_test`).Scan(&n))
	if n != 1 {
		t.Errorf("migrated table: got %d rows, want 1", n)
	}
}
