package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

func (a *app) memberCmd() *cobra.Command {
	var conn apiConn
	group := &cobra.Command{
		Use:   "member",
		Short: "Manage an org's members: list, invite, role, suspend, remove",
		Long: `Manage the members of an org. USER is a user's id or email. A role change,
suspension or removal takes effect on the member's tokens at their very
next request; removal revokes their tokens in the org.`,
	}
	a.addAPIFlags(group, &conn)
	a.addOrgFlag(group, &conn)

	open := func(ctx context.Context) (*client.Client, string, error) { return a.orgClient(ctx, &conn) }
	var (
		opts   client.ListOptions
		all    bool
		addReq client.MemberRequest
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the org's members",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, org, err := open(cmd.Context())
			if err != nil {
				return err
			}
			page, err := cl.Members(cmd.Context(), org, opts)
			if err != nil {
				return err
			}
			for all && page.NextCursor != nil && *page.NextCursor != "" {
				opts.Cursor = *page.NextCursor
				next, err := cl.Members(cmd.Context(), org, opts)
				if err != nil {
					return err
				}
				page.Members, page.NextCursor = append(page.Members, next.Members...), next.NextCursor
			}
			if a.json() {
				return a.printJSON(page)
			}
			t := a.newTable("USER ID", "EMAIL", "NAME", "ROLE", "STATUS", "SINCE")
			for _, m := range page.Members {
				t.row(m.User.ID, m.User.Email, m.User.Name, m.Role, memberStatus(m), fmtTime(&m.CreatedAt))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if page.NextCursor != nil && *page.NextCursor != "" {
				fmt.Fprintf(a.stderr, "More: --cursor %s (or --all)\n", *page.NextCursor)
			}
			return nil
		},
	}
	list.Flags().IntVar(&opts.Limit, "limit", 0, "page size (default 50, at most 200)")
	list.Flags().StringVar(&opts.Cursor, "cursor", "", "start after this cursor of a previous page")
	list.Flags().BoolVar(&all, "all", false, "follow every page")

	// one makes a command that acts on one member and shows the result.
	one := func(use, short string, n int, do func(ctx context.Context, cl *client.Client, org string, argv []string) (*client.Member, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  args(cobra.ExactArgs(n)),
			RunE: func(cmd *cobra.Command, argv []string) error {
				cl, org, err := open(cmd.Context())
				if err != nil {
					return err
				}
				m, err := do(cmd.Context(), cl, org, argv)
				if err != nil {
					return err
				}
				return a.printMember(m)
			},
		}
	}
	show := one("show USER", "Show one member", 1, func(ctx context.Context, cl *client.Client, org string, argv []string) (*client.Member, error) {
		return cl.Member(ctx, org, argv[0])
	})
	add := &cobra.Command{
		Use:   "add EMAIL [--name NAME] [--role ROLE]",
		Short: "Invite a person to the org; they join once they accept the printed link",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cl, org, err := open(cmd.Context())
			if err != nil {
				return err
			}
			addReq.Email = argv[0]
			inv, err := cl.AddMember(cmd.Context(), org, addReq)
			if err != nil {
				return err
			}
			return a.printInvite(inv)
		},
	}
	invitations := &cobra.Command{
		Use:   "invitations",
		Short: "List the org's pending invitations",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, org, err := open(cmd.Context())
			if err != nil {
				return err
			}
			page, err := cl.Invitations(cmd.Context(), org, client.ListOptions{Limit: 200})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(page)
			}
			t := a.newTable("ID", "EMAIL", "ROLE", "STATE", "UNTIL")
			for _, inv := range page.Invitations {
				t.row(inv.ID, inv.Email, inv.Role, inv.State, fmtTime(&inv.ExpiresAt))
			}
			return t.flush()
		},
	}
	cancel := &cobra.Command{
		Use:   "cancel INVITATION",
		Short: "Cancel a pending invitation; its link stops working",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cl, org, err := open(cmd.Context())
			if err != nil {
				return err
			}
			inv, err := cl.CancelInvitation(cmd.Context(), org, argv[0])
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(inv)
			}
			fmt.Fprintf(a.stdout, "Cancelled the invitation of %s.\n", inv.Email)
			return nil
		},
	}
	add.Flags().StringVar(&addReq.Name, "name", "", "the person's name, for a new user")
	add.Flags().StringVar(&addReq.Role, "role", "member", "owner, admin, member or viewer")
	role := one("role USER ROLE", "Change a member's role (owner, admin, member, viewer)", 2,
		func(ctx context.Context, cl *client.Client, org string, argv []string) (*client.Member, error) {
			return cl.UpdateMember(ctx, org, argv[0], client.MemberUpdate{Role: argv[1]})
		})
	suspend := one("suspend USER", "Suspend a member: their tokens in the org are blocked until unsuspended", 1,
		func(ctx context.Context, cl *client.Client, org string, argv []string) (*client.Member, error) {
			return cl.SuspendMember(ctx, org, argv[0])
		})
	unsuspend := one("unsuspend USER", "Lift a member's suspension", 1,
		func(ctx context.Context, cl *client.Client, org string, argv []string) (*client.Member, error) {
			return cl.UnsuspendMember(ctx, org, argv[0])
		})
	remove := &cobra.Command{
		Use:   "remove USER",
		Short: "Remove a member, revoking their personal tokens in the org",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			cl, org, err := open(cmd.Context())
			if err != nil {
				return err
			}
			res, err := cl.RemoveMember(cmd.Context(), org, argv[0])
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "Removed %s from %s; revoked %d tokens", res.Member.User.Email, org, len(res.RevokedTokens))
			if len(res.RevokedTokens) > 0 {
				fmt.Fprintf(a.stdout, ": %s", strings.Join(res.RevokedTokens, " "))
			}
			fmt.Fprintln(a.stdout, ".")
			return nil
		},
	}
	group.AddCommand(list, show, add, invitations, cancel, role, suspend, unsuspend, remove)
	return group
}

func memberStatus(m client.Member) string {
	if m.Suspended {
		return "suspended"
	}
	return "active"
}

// printMember shows one member.
func (a *app) printMember(m *client.Member) error {
	if a.json() {
		return a.printJSON(m)
	}
	t := a.newTable()
	t.row("User:", person(m.User))
	t.row("Org:", m.OrgID)
	t.row("Role:", m.Role)
	t.row("Status:", memberStatus(*m))
	t.row("Since:", fmtTime(&m.CreatedAt))
	return t.flush()
}

// printInvite shows a new invitation and its one-time link.
func (a *app) printInvite(inv *client.Invite) error {
	if a.json() {
		return a.printJSON(inv)
	}
	t := a.newTable()
	t.row("Invitation:", inv.Invitation.ID)
	t.row("Email:", inv.Invitation.Email)
	t.row("Role:", inv.Invitation.Role)
	t.row("Until:", fmtTime(&inv.Invitation.ExpiresAt))
	t.row("Link:", inv.InviteURL)
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(a.stderr, "Send the link to the person: they accept it signed in, or choose a password if the address is new. It works once, for 7 days, and is not shown again.")
	return nil
}
