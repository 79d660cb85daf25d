package main

import (
	"fmt"
	"strings"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

func (a *app) policyCmd() *cobra.Command {
	var conn apiConn
	group := &cobra.Command{
		Use:   "policy",
		Short: "Show or change an org's token policy",
	}
	a.addAPIFlags(group, &conn)
	a.addOrgFlag(group, &conn)
	get := &cobra.Command{
		Use:   "get",
		Short: "Show the org's token policy",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, org, err := a.orgClient(cmd.Context(), &conn)
			if err != nil {
				return err
			}
			p, err := cl.Policy(cmd.Context(), org)
			if err != nil {
				return err
			}
			return a.printPolicy(p)
		},
	}
	var (
		requireExpiry bool
		maxLifetime   string
		allowedKinds  []string
	)
	set := &cobra.Command{
		Use:   "set [--require-expiry=true|false] [--max-lifetime 90d|none] [--allowed-kinds pat,api_key|all]",
		Short: "Change the org's token policy; tokens that break it are blocked, not revoked",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			if !f.Changed("require-expiry") && !f.Changed("max-lifetime") && !f.Changed("allowed-kinds") {
				return usageError{fmt.Errorf("nothing to change: give --require-expiry, --max-lifetime or --allowed-kinds")}
			}
			cl, org, err := a.orgClient(cmd.Context(), &conn)
			if err != nil {
				return err
			}
			// PUT replaces the whole policy: start from the one in force.
			p, err := cl.Policy(cmd.Context(), org)
			if err != nil {
				return err
			}
			if f.Changed("require-expiry") {
				p.RequireExpiry = requireExpiry
			}
			if f.Changed("max-lifetime") {
				p.MaxLifetime = nil
				if v := strings.TrimSpace(maxLifetime); v != "" && v != "none" {
					p.MaxLifetime = &v
				}
			}
			if f.Changed("allowed-kinds") {
				p.AllowedKinds = []string{}
				for _, k := range allowedKinds {
					if k = strings.TrimSpace(k); k != "" && k != "all" {
						p.AllowedKinds = append(p.AllowedKinds, k)
					}
				}
			}
			saved, err := cl.SetPolicy(cmd.Context(), org, *p)
			if err != nil {
				return err
			}
			return a.printPolicy(saved)
		},
	}
	set.Flags().BoolVar(&requireExpiry, "require-expiry", false, "every token must have an expiry")
	set.Flags().StringVar(&maxLifetime, "max-lifetime", "", `cap on a token's lifetime such as "90d", or "none"`)
	set.Flags().StringSliceVar(&allowedKinds, "allowed-kinds", nil, "kinds that may be minted and used (pat, oauth, api_key, agent, probe), or all")
	group.AddCommand(get, set)
	return group
}

// printPolicy shows a policy.
func (a *app) printPolicy(p *client.Policy) error {
	if a.json() {
		return a.printJSON(p)
	}
	t := a.newTable()
	t.row("Require expiry:", fmt.Sprint(p.RequireExpiry))
	maxLifetime := str(p.MaxLifetime)
	if maxLifetime == "" {
		maxLifetime = "none"
	}
	t.row("Max lifetime:", maxLifetime)
	k := strings.Join(p.AllowedKinds, " ")
	if k == "" {
		k = "all"
	}
	t.row("Allowed kinds:", k)
	return t.flush()
}
