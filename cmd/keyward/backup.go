package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) backupCmd() *cobra.Command {
	var db dbFlags
	cmd := &cobra.Command{
		Use:   "backup DEST",
		Short: "Copy a SQLite database to DEST while it is in use",
		Long: `Backup copies a SQLite database to the file DEST with SQLite's online
backup, so the server may keep running. DEST must not exist. PostgreSQL
databases are backed up with pg_dump instead.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if isPostgres(db.url) {
				return fmt.Errorf("backup copies SQLite databases only; back up PostgreSQL with pg_dump")
			}
			if err := backupDatabase(cmd.Context(), db.url, argv[0]); err != nil {
				return fmt.Errorf("backing up %s: %w", redactURL(db.url), err)
			}
			fmt.Fprintf(a.stdout, "Backed up %s to %s.\n", redactURL(db.url), argv[0])
			return nil
		},
	}
	db.addURL(a, cmd)
	return cmd
}
