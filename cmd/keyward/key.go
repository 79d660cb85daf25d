package main

import "github.com/spf13/cobra"

func (a *app) keyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage an org's API keys, agent and probe tokens",
		Long: `Manage an org's credentials (admins and owners): API keys with a fixed
role, agent tokens bound to one agent, and probe tokens. The verbs are
those of 'keyward token'; create takes --kind, --role and --agent-id.`,
	}
	(&credentialSet{a: a, orgKeys: true, noun: "key"}).addVerbs(cmd)
	return cmd
}
