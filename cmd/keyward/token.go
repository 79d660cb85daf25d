package main

import "github.com/spf13/cobra"

func (a *app) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage your personal access tokens",
		Long: `Manage your personal access tokens in the org your token is pinned to:
create, list, show, update, revoke, regenerate, rotate, delete, and scopes.`,
	}
	(&credentialSet{a: a, noun: "token"}).addVerbs(cmd)
	return cmd
}
