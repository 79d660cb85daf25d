package main

import (
	"fmt"
	"strings"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/wire"
	"github.com/spf13/cobra"
)

func (a *app) adminCmd() *cobra.Command {
	group := &cobra.Command{
		Use:   "admin",
		Short: "Operator commands on the database: create orgs, users and tokens",
		Long: `Operator commands act on the database directly (--database-url), not
through the API, and are audited with the actor "operator".`,
	}
	org := &cobra.Command{Use: "org", Short: "Manage orgs as the operator"}
	org.AddCommand(a.adminOrgCreateCmd())
	user := &cobra.Command{Use: "user", Short: "Manage users as the operator"}
	user.AddCommand(a.adminUserCreateCmd(), a.adminPasswordLinkCmd())
	token := &cobra.Command{Use: "token", Short: "Provision tokens as the operator"}
	token.AddCommand(a.adminTokenCreateCmd())
	group.AddCommand(org, user, token)
	return group
}

func (a *app) adminOrgCreateCmd() *cobra.Command {
	var (
		db          dbFlags
		slug, owner string
	)
	cmd := &cobra.Command{
		Use:   "create NAME [--slug SLUG] [--owner EMAIL]",
		Short: "Create an org, with an existing user as its owner",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			o, err := svc.AdminCreateOrg(cmd.Context(), argv[0], slug, owner)
			if err != nil {
				return operatorError("creating org", err)
			}
			out := wire.OrgOut(o)
			if a.json() {
				return a.printJSON(out)
			}
			t := a.newTable("ID", "SLUG", "NAME", "OWNER")
			t.row(out.ID, out.Slug, out.Name, owner)
			return t.flush()
		},
	}
	db.add(a, cmd)
	cmd.Flags().StringVar(&slug, "slug", "", "the org's slug (default made from its name)")
	cmd.Flags().StringVar(&owner, "owner", "", "email of an existing user to make its owner")
	return cmd
}

func (a *app) adminUserCreateCmd() *cobra.Command {
	var (
		db                                   dbFlags
		email, name, org, role, passwordFile string
	)
	cmd := &cobra.Command{
		Use:   "create --email EMAIL --name NAME [--org ORG --role ROLE] [--password-file FILE]",
		Short: "Create a user, optionally in an org",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(email) == "" {
				return usageError{fmt.Errorf("--email is required")}
			}
			if cmd.Flags().Changed("role") && org == "" {
				return usageError{fmt.Errorf("--role needs --org")}
			}
			password := ""
			if passwordFile != "" {
				pw, err := a.readPasswordFile(passwordFile)
				if err != nil {
					return err
				}
				password = pw
			}
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			u, err := svc.AdminCreateUser(cmd.Context(), email, name, password, org, keyward.Role(role))
			if err != nil {
				return operatorError("creating user", err)
			}
			out := wire.UserOut(u)
			if a.json() {
				return a.printJSON(out)
			}
			t := a.newTable("ID", "EMAIL", "NAME", "ORG", "ROLE")
			if org == "" {
				role = ""
			}
			t.row(out.ID, out.Email, out.Name, org, role)
			return t.flush()
		},
	}
	db.add(a, cmd)
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email (required)")
	f.StringVar(&name, "name", "", "the user's name")
	f.StringVar(&org, "org", "", "add the user to this org (id or slug)")
	f.StringVar(&role, "role", "member", "the role in --org: owner, admin, member or viewer")
	f.StringVar(&passwordFile, "password-file", "", `read a dashboard password from this file ("-": stdin)`)
	return cmd
}

func (a *app) adminPasswordLinkCmd() *cobra.Command {
	var (
		db         dbFlags
		email, url string
	)
	cmd := &cobra.Command{
		Use:   "password-link --email EMAIL [--url URL]",
		Short: "Make a one-time link that lets a user set a dashboard password",
		Long: `Make a one-time link that lets the user with EMAIL set a dashboard
password: for a user made without one, or one who forgot it. The link is
printed once and lasts 7 days; pass it to the user yourself.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(email) == "" {
				return usageError{fmt.Errorf("--email is required")}
			}
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			token, err := svc.AdminPasswordLink(cmd.Context(), email)
			if err != nil {
				return operatorError("making a set-password link", err)
			}
			link := strings.TrimSuffix(url, "/") + "/set-password/" + token
			if a.json() {
				return a.printJSON(map[string]string{"set_password_url": link})
			}
			fmt.Fprintln(a.stdout, link)
			return nil
		},
	}
	db.add(a, cmd)
	f := cmd.Flags()
	f.StringVar(&email, "email", "", "the user's email (required)")
	f.StringVar(&url, "url", envOr(a.getenv, "KEYWARD_URL", ""), "the dashboard's address the link starts with ($KEYWARD_URL)")
	return cmd
}

func (a *app) adminTokenCreateCmd() *cobra.Command {
	var (
		db         dbFlags
		email, org string
		req        service.TokenRequest
		expiresAt  string
		scopes     []string
	)
	cmd := &cobra.Command{
		Use:   "create --user EMAIL --org ORG --name NAME",
		Short: "Provision a personal access token for a member; its secret is printed once",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" || org == "" || strings.TrimSpace(req.Name) == "" {
				return usageError{fmt.Errorf("--user, --org and --name are required")}
			}
			var err error
			if req.ExpiresAt, err = parseTimeFlag("--expires-at", expiresAt); err != nil {
				return err
			}
			for _, v := range scopes {
				sc, err := parseScope(v)
				if err != nil {
					return err
				}
				req.Scopes = append(req.Scopes, service.ScopeRequest{EntityType: sc.EntityType, EntityID: sc.EntityID, Operations: sc.Operations})
			}
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			t, secret, err := svc.AdminCreateToken(cmd.Context(), email, org, req)
			if err != nil {
				return operatorError("creating token", err)
			}
			return a.printSecret(&client.TokenSecret{Token: wire.TokenOut(t), Secret: secret}, "Created token for "+email)
		},
	}
	db.add(a, cmd)
	f := cmd.Flags()
	f.StringVar(&email, "user", "", "the member's email (required)")
	f.StringVar(&org, "org", "", "the org (id or slug) the token is pinned to (required)")
	f.StringVar(&req.Name, "name", "", "the token's name (required)")
	f.StringVar(&req.Description, "description", "", "description")
	f.StringVar(&req.ExpiresIn, "expires-in", "", `lifetime such as "90d", "12h" or "30m"`)
	f.StringVar(&expiresAt, "expires-at", "", "expiry time, RFC 3339 or YYYY-MM-DD")
	f.StringSliceVar(&req.Permissions, "permission", nil, "narrow to these permissions (repeat or comma-separate)")
	f.StringArrayVar(&scopes, "scope", nil, `scope TYPE:ID:OPS, e.g. "monitor:*:read,list" (repeat)`)
	return cmd
}
