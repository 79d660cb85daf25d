package main

import (
	"fmt"
	"strings"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

// scopesCmd manages the scopes of one credential: list, add, remove, clear.
func (s *credentialSet) scopesCmd() *cobra.Command {
	group := &cobra.Command{
		Use:   "scopes",
		Short: "List, add and remove the scopes of a " + s.noun,
		Long: `Scopes narrow a ` + s.noun + ` to operations on entities. A scope is written
TYPE:ID:OPS, such as "monitor:*:read,list" or "project:p-42:read,update";
operations are create read list update delete share unshare publish subscribe.`,
	}
	group.AddCommand(
		&cobra.Command{
			Use:   "list ID",
			Short: "List a " + s.noun + "'s scopes",
			Args:  args(cobra.ExactArgs(1)),
			RunE: func(cmd *cobra.Command, argv []string) error {
				set, err := s.open(cmd.Context())
				if err != nil {
					return err
				}
				tok, err := set.Get(cmd.Context(), argv[0])
				if err != nil {
					return err
				}
				if s.a.json() {
					return s.a.printJSON(tok.Scopes)
				}
				if len(tok.Scopes) == 0 {
					fmt.Fprintf(s.a.stderr, "No scopes: %s %s may do all its role allows.\n", s.noun, tok.ID)
					return nil
				}
				t := s.a.newTable("SCOPE ID", "ENTITY TYPE", "ENTITY ID", "OPERATIONS")
				for _, sc := range tok.Scopes {
					t.row(sc.ID, sc.EntityType, sc.EntityID, strings.Join(sc.Operations, ","))
				}
				return t.flush()
			},
		},
		&cobra.Command{
			Use:   "add ID TYPE:ID:OPS...",
			Short: "Add scopes to a " + s.noun,
			Args:  args(cobra.MinimumNArgs(2)),
			RunE: func(cmd *cobra.Command, argv []string) error {
				for _, v := range argv[1:] {
					if _, err := parseScope(v); err != nil {
						return err
					}
				}
				set, err := s.open(cmd.Context())
				if err != nil {
					return err
				}
				var tok *client.Token
				for _, v := range argv[1:] {
					sc, _ := parseScope(v)
					if tok, err = set.AddScope(cmd.Context(), argv[0], sc); err != nil {
						return fmt.Errorf("adding scope %s: %w", v, err)
					}
					if !s.a.json() {
						fmt.Fprintf(s.a.stdout, "Added scope %s to %s.\n", v, tok.ID)
					}
				}
				if s.a.json() {
					return s.a.printJSON(tok)
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "remove ID SCOPE_ID...",
			Short: "Remove scopes from a " + s.noun + " by their ids",
			Args:  args(cobra.MinimumNArgs(2)),
			RunE: func(cmd *cobra.Command, argv []string) error {
				set, err := s.open(cmd.Context())
				if err != nil {
					return err
				}
				var tok *client.Token
				for _, id := range argv[1:] {
					if tok, err = set.RemoveScope(cmd.Context(), argv[0], id); err != nil {
						return fmt.Errorf("removing scope %s: %w", id, err)
					}
					if !s.a.json() {
						fmt.Fprintf(s.a.stdout, "Removed scope %s from %s.\n", id, argv[0])
					}
				}
				if s.a.json() {
					return s.a.printJSON(tok)
				}
				return nil
			},
		},
		&cobra.Command{
			Use:   "clear ID",
			Short: "Remove every scope of a " + s.noun,
			Args:  args(cobra.ExactArgs(1)),
			RunE: func(cmd *cobra.Command, argv []string) error {
				set, err := s.open(cmd.Context())
				if err != nil {
					return err
				}
				tok, err := set.ClearScopes(cmd.Context(), argv[0])
				if err != nil {
					return err
				}
				if s.a.json() {
					return s.a.printJSON(tok)
				}
				fmt.Fprintf(s.a.stdout, "Removed every scope of %s.\n", argv[0])
				return nil
			},
		},
	)
	return group
}
