package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/keyward/keyward/database"
)

func (a *app) migrateCmd() *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Run the database migrations and exit",
		Long: `Migrate brings the database's schema up to date. Serve does the same at
start; migrate lets a deployment do it as a step of its own.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := migrateDatabase(cmd.Context(), db.url); err != nil {
				return fmt.Errorf("migrating %s: %w", redactURL(db.url), err)
			}
			fmt.Fprintf(a.stdout, "Migrated %s.\n", redactURL(db.url))
			return nil
		},
	}
	db.addURL(a, cmd)
	cmd.AddCommand(a.migrateStatusCmd())
	return cmd
}

// migrationOut is one migration as migrate status prints it in JSON.
type migrationOut struct {
	Version   int64      `json:"version"`
	Name      string     `json:"name"`
	AppliedAt *time.Time `json:"applied_at"`
}

func (a *app) migrateStatusCmd() *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show which migrations the database has applied, changing nothing",
		Long: `Status lists this keyward's migrations and when the database applied each,
and any version the database has that this keyward does not know (a newer
keyward migrated it). It changes nothing, and creates no SQLite file.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			states, unknown, err := database.MigrationStatus(cmd.Context(), db.url)
			if err != nil {
				return fmt.Errorf("reading the migrations of %s: %w", redactURL(db.url), err)
			}
			pending := 0
			out := make([]migrationOut, len(states))
			for i, st := range states {
				out[i] = migrationOut{Version: st.Version, Name: st.Name, AppliedAt: st.AppliedAt}
				if st.AppliedAt == nil {
					pending++
				}
			}
			if a.json() {
				return a.printJSON(map[string]any{"migrations": out, "pending": pending, "unknown_versions": unknown})
			}
			t := a.newTable("VERSION", "NAME", "APPLIED")
			for _, m := range out {
				applied := "pending"
				if m.AppliedAt != nil {
					applied = fmtTime(m.AppliedAt)
				}
				t.row(fmt.Sprint(m.Version), m.Name, applied)
			}
			if err := t.flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "%d of %d applied, %d pending.\n", len(out)-pending, len(out), pending)
			if len(unknown) > 0 {
				fmt.Fprintf(a.stderr, "The database has versions %v, which this keyward does not know: a newer keyward migrated it.\n", unknown)
			}
			return nil
		},
	}
	db.addURL(a, cmd)
	return cmd
}
