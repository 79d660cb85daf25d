package main

import (
	"fmt"
	"strings"

	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
	"github.com/spf13/cobra"
)

// bootstrapOut is what bootstrap prints with -o json: the secret and a
// generated password are shown this once.
type bootstrapOut struct {
	User     client.User  `json:"user"`
	Org      client.Org   `json:"org"`
	Token    client.Token `json:"token"`
	Secret   string       `json:"secret"`
	Password string       `json:"password,omitempty"`
}

func (a *app) bootstrapCmd() *cobra.Command {
	var (
		db           dbFlags
		req          service.BootstrapRequest
		passwordFile string
		prompt       bool
	)
	cmd := &cobra.Command{
		Use:   "bootstrap --email EMAIL --org NAME",
		Short: "Create the first owner, their org and a token on an empty database",
		Long: `Bootstrap creates the first owner, their org and a personal access token on
an empty database, and prints them once, with the owner's dashboard
password when it generated one. It acts on the database directly, so it
works with or without a running server. On a database that already has
users it changes nothing and fails.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(req.Email) == "" || strings.TrimSpace(req.OrgName) == "" {
				return usageError{fmt.Errorf("--email and --org are required")}
			}
			switch {
			case passwordFile != "" && prompt:
				return usageError{fmt.Errorf("give --password-file or --password-prompt, not both")}
			case passwordFile != "":
				pw, err := a.readPasswordFile(passwordFile)
				if err != nil {
					return err
				}
				req.Password = pw
			case prompt:
				pw, err := a.promptPassword()
				if err != nil {
					return err
				}
				req.Password = pw
			}
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			res, err := svc.Bootstrap(cmd.Context(), req)
			if err != nil {
				return operatorError("bootstrap", err)
			}
			out := bootstrapOut{User: wire.UserOut(res.User), Org: wire.OrgOut(res.Org), Token: wire.TokenOut(res.Token), Secret: res.Secret, Password: res.Password}
			if a.json() {
				return a.printJSON(out)
			}
			t := a.newTable()
			t.row("Owner:", person(out.User))
			t.row("Org:", fmt.Sprintf("%s (%s, %s)", out.Org.Name, out.Org.Slug, out.Org.ID))
			t.row("Token:", fmt.Sprintf("%s %q (%s)", out.Token.ID, out.Token.Name, out.Token.Kind))
			t.row("Secret:", out.Secret)
			if out.Password != "" {
				t.row("Password:", out.Password)
			}
			if err := t.flush(); err != nil {
				return err
			}
			fmt.Fprintln(a.stderr, "Copy the secret now (and the password, if generated); they will not be shown again.")
			return nil
		},
	}
	db.add(a, cmd)
	f := cmd.Flags()
	f.StringVar(&req.Email, "email", "", "the owner's email (required)")
	f.StringVar(&req.OrgName, "org", "", "the org's name (required)")
	f.StringVar(&req.Name, "name", "", "the owner's name")
	f.StringVar(&req.TokenName, "token-name", "", `the first token's name (default "bootstrap")`)
	f.StringVar(&passwordFile, "password-file", "", `read the owner's dashboard password from this file ("-": stdin) instead of generating one`)
	f.BoolVar(&prompt, "password-prompt", false, "ask for the owner's dashboard password on the terminal instead of generating one")
	return cmd
}
