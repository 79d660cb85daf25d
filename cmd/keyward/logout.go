package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the server URL and token that login stored",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, err := a.credentialsFile()
			if err != nil {
				return err
			}
			stored, err := a.loadCredentials()
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				// An unreadable file is still removed.
				stored = &credentials{}
			}
			if err := os.Remove(path); errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintln(a.stdout, "Not logged in.")
				return nil
			} else if err != nil {
				return fmt.Errorf("forgetting the login: %w", err)
			}
			if stored != nil && stored.URL != "" {
				fmt.Fprintf(a.stdout, "Logged out of %s.\n", stored.URL)
			} else {
				fmt.Fprintln(a.stdout, "Logged out.")
			}
			return nil
		},
	}
}
