package main

import (
	"fmt"

	"github.com/spf13/cobra"
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
	return cmd
}
