package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) whoamiCmd() *cobra.Command {
	var conn apiConn
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show who the token acts as: user, org, role and permissions",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client(&conn)
			if err != nil {
				return err
			}
			w, err := cl.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(w)
			}
			t := a.newTable()
			if w.User != nil {
				t.row("User:", person(*w.User))
			}
			t.row("Org:", fmt.Sprintf("%s (%s, %s)", w.Org.Name, w.Org.Slug, w.Org.ID))
			t.row("Role:", str(w.Role))
			if w.Token != nil {
				t.row("Token:", fmt.Sprintf("%s %s (%s, %s)", w.Token.ID, w.Token.Display, w.Token.Kind, w.Token.Name))
			}
			t.row("Permissions:", strings.Join(w.Permissions, " "))
			return t.flush()
		},
	}
	a.addAPIFlags(cmd, &conn)
	return cmd
}
