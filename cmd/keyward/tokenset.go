package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

// credentialSet is what a command group manages: the caller's own tokens
// ('keyward token') or the org's API keys, agent and probe tokens
// ('keyward key'). Both have the same verbs.
type credentialSet struct {
	a    *app
	conn apiConn
	// orgKeys is set for 'keyward key'.
	orgKeys bool
	// noun names one credential in messages: "token" or "key".
	noun string
}

// open returns the client's view of the set.
func (s *credentialSet) open(ctx context.Context) (*client.TokenSet, error) {
	cl, err := s.a.client(&s.conn)
	if err != nil {
		return nil, err
	}
	if !s.orgKeys {
		return cl.Tokens(), nil
	}
	org, err := s.a.orgRef(ctx, cl, &s.conn)
	if err != nil {
		return nil, err
	}
	return cl.Keys(org), nil
}

// addVerbs adds the verbs every credential set has to group.
func (s *credentialSet) addVerbs(group *cobra.Command) {
	s.a.addAPIFlags(group, &s.conn)
	if s.orgKeys {
		s.a.addOrgFlag(group, &s.conn)
	}
	group.AddCommand(s.createCmd(), s.listCmd(), s.showCmd(), s.updateCmd(), s.revokeCmd(),
		s.regenerateCmd(), s.rotateCmd(), s.deleteCmd(), s.scopesCmd())
}

func (s *credentialSet) createCmd() *cobra.Command {
	var (
		req       client.TokenRequest
		scopes    []string
		expiresAt string
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME",
		Short: "Mint a " + s.noun + "; its secret is printed once",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(req.Name) == "" {
				return usageError{fmt.Errorf("--name is required")}
			}
			var err error
			if req.ExpiresAt, err = parseTimeFlag("--expires-at", expiresAt); err != nil {
				return err
			}
			for _, sc := range scopes {
				parsed, err := parseScope(sc)
				if err != nil {
					return err
				}
				req.Scopes = append(req.Scopes, parsed)
			}
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := set.Create(cmd.Context(), req)
			if err != nil {
				return err
			}
			return s.a.printSecret(ts, "Created "+s.noun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "name (required)")
	f.StringVar(&req.Description, "description", "", "description")
	f.StringVar(&req.ExpiresIn, "expires-in", "", `lifetime such as "90d", "12h" or "30m"`)
	f.StringVar(&expiresAt, "expires-at", "", "expiry time, RFC 3339 or YYYY-MM-DD")
	f.StringSliceVar(&req.Permissions, "permission", nil, "narrow to these permissions (repeat or comma-separate)")
	f.StringArrayVar(&scopes, "scope", nil, `scope TYPE:ID:OPS, e.g. "monitor:*:read,list" (repeat)`)
	f.StringSliceVar(&req.AllowedCIDRs, "allowed-cidr", nil, "accept the token only from these addresses or CIDRs")
	f.IntVar(&req.RateLimit, "rate-limit", 0, "requests an hour, overriding the default")
	if s.orgKeys {
		f.StringVar(&req.Kind, "kind", "api_key", "api_key, agent or probe")
		f.StringVar(&req.Role, "role", "", "an API key's fixed role (default your own)")
		f.StringVar(&req.AgentID, "agent-id", "", "the agent an agent token is bound to")
	}
	return cmd
}

func (s *credentialSet) listCmd() *cobra.Command {
	var (
		opts client.ListOptions
		all  bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List " + s.noun + "s, newest first",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			page, err := set.List(cmd.Context(), opts)
			if err != nil {
				return err
			}
			for all && page.NextCursor != nil && *page.NextCursor != "" {
				opts.Cursor = *page.NextCursor
				next, err := set.List(cmd.Context(), opts)
				if err != nil {
					return err
				}
				page.Tokens, page.NextCursor = append(page.Tokens, next.Tokens...), next.NextCursor
			}
			if s.a.json() {
				if s.orgKeys {
					return s.a.printJSON(client.KeyList{Keys: page.Tokens, NextCursor: page.NextCursor})
				}
				return s.a.printJSON(page)
			}
			if len(page.Tokens) == 0 {
				fmt.Fprintf(s.a.stderr, "No %ss.\n", s.noun)
				return nil
			}
			t := s.a.newTable("ID", "NAME", "KIND", "TOKEN", "STATUS", "SOURCE", "CREATED", "EXPIRES", "LAST USED")
			for _, tok := range page.Tokens {
				t.row(tok.ID, tok.Name, tok.Kind, tok.Display, tok.Status, tok.Source,
					fmtTime(&tok.CreatedAt), fmtTime(tok.ExpiresAt), fmtTime(tok.LastUsedAt))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if page.NextCursor != nil && *page.NextCursor != "" {
				fmt.Fprintf(s.a.stderr, "More: --cursor %s (or --all)\n", *page.NextCursor)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Status, "status", "", "active, expired, revoked or all (default all)")
	f.IntVar(&opts.Limit, "limit", 0, "page size (default 50, at most 200)")
	f.StringVar(&opts.Cursor, "cursor", "", "start after this cursor of a previous page")
	f.BoolVar(&all, "all", false, "follow every page")
	if s.orgKeys {
		f.StringVar(&opts.Kind, "kind", "", "only api_key, agent or probe")
	}
	return cmd
}

func (s *credentialSet) showCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one " + s.noun,
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
			return s.a.printToken(tok)
		},
	}
}

func (s *credentialSet) updateCmd() *cobra.Command {
	var name, description string
	cmd := &cobra.Command{
		Use:   "update ID [--name NAME] [--description TEXT]",
		Short: "Rename a " + s.noun + " or change its description",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			var upd client.TokenUpdate
			if cmd.Flags().Changed("name") {
				upd.Name = &name
			}
			if cmd.Flags().Changed("description") {
				upd.Description = &description
			}
			if upd.Name == nil && upd.Description == nil {
				return usageError{fmt.Errorf("nothing to change: give --name or --description")}
			}
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			tok, err := set.Update(cmd.Context(), argv[0], upd)
			if err != nil {
				return err
			}
			return s.a.printToken(tok)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().StringVar(&description, "description", "", "new description")
	return cmd
}

func (s *credentialSet) revokeCmd() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a " + s.noun + " at once (it stays listed until deleted)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			tok, err := set.Revoke(cmd.Context(), argv[0], reason)
			if err != nil {
				return err
			}
			if s.a.json() {
				return s.a.printJSON(tok)
			}
			fmt.Fprintf(s.a.stdout, "Revoked %s %s (%s, %s).\n", s.noun, tok.ID, tok.Name, tok.Display)
			return nil
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, for the audit log")
	return cmd
}

// validityFlags are the new validity of a regenerated or rotated credential.
type validityFlags struct {
	expiresIn, expiresAt string
	noExpiry             bool
}

func (v *validityFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&v.expiresIn, "expires-in", "", `new lifetime such as "90d" (default: the former lifetime)`)
	cmd.Flags().StringVar(&v.expiresAt, "expires-at", "", "new expiry time, RFC 3339 or YYYY-MM-DD")
	cmd.Flags().BoolVar(&v.noExpiry, "no-expiry", false, "never expire, where policy allows")
}

func (v *validityFlags) request() (client.RegenerateRequest, error) {
	at, err := parseTimeFlag("--expires-at", v.expiresAt)
	return client.RegenerateRequest{ExpiresIn: v.expiresIn, ExpiresAt: at, NoExpiry: v.noExpiry}, err
}

func (s *credentialSet) regenerateCmd() *cobra.Command {
	var v validityFlags
	cmd := &cobra.Command{
		Use:   "regenerate ID",
		Short: "Give a " + s.noun + " a new secret and validity; the old secret dies at once",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			req, err := v.request()
			if err != nil {
				return err
			}
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := set.Regenerate(cmd.Context(), argv[0], req)
			if err != nil {
				return err
			}
			return s.a.printSecret(ts, "Regenerated "+s.noun)
		},
	}
	v.add(cmd)
	return cmd
}

func (s *credentialSet) rotateCmd() *cobra.Command {
	var (
		v       validityFlags
		overlap string
	)
	cmd := &cobra.Command{
		Use:   "rotate ID [--overlap 1d]",
		Short: "Mint a new " + s.noun + " with the same settings; the old one works for the overlap, then expires",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			r, err := v.request()
			if err != nil {
				return err
			}
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := set.Rotate(cmd.Context(), argv[0], client.RotateRequest{
				Overlap: overlap, ExpiresIn: r.ExpiresIn, ExpiresAt: r.ExpiresAt, NoExpiry: r.NoExpiry,
			})
			if err != nil {
				return err
			}
			return s.a.printSecret(ts, "Rotated "+argv[0]+"; new "+s.noun)
		},
	}
	v.add(cmd)
	cmd.Flags().StringVar(&overlap, "overlap", "", `how long the old one keeps working, "0" to "7d" (default 0)`)
	return cmd
}

func (s *credentialSet) deleteCmd() *cobra.Command {
	var all, yes bool
	cmd := &cobra.Command{
		Use:   "delete ID | delete --all --yes",
		Short: "Delete " + s.noun + "s: they leave lists, never the audit log",
		Args: args(func(cmd *cobra.Command, argv []string) error {
			if all {
				return cobra.NoArgs(cmd, argv)
			}
			return cobra.ExactArgs(1)(cmd, argv)
		}),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if all && !yes {
				return usageError{fmt.Errorf("delete --all removes every %s; add --yes to confirm", s.noun)}
			}
			set, err := s.open(cmd.Context())
			if err != nil {
				return err
			}
			if all {
				d, err := set.DeleteAll(cmd.Context())
				if err != nil {
					return err
				}
				if s.a.json() {
					return s.a.printJSON(d)
				}
				fmt.Fprintf(s.a.stdout, "Deleted %d %ss.\n", len(d.Deleted), s.noun)
				return nil
			}
			if err := set.Delete(cmd.Context(), argv[0]); err != nil {
				return err
			}
			if s.a.json() {
				return s.a.printJSON(map[string]string{"deleted": argv[0]})
			}
			fmt.Fprintf(s.a.stdout, "Deleted %s %s.\n", s.noun, argv[0])
			return nil
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "delete every "+s.noun)
	cmd.Flags().BoolVar(&yes, "yes", false, "confirm --all")
	return cmd
}

// parseTimeFlag reads an optional RFC 3339 time or date; "" gives nil.
func parseTimeFlag(name, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return &t, nil
		}
	}
	return nil, usageError{fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-01-31T12:00:00Z, or a date 2026-01-31", name, v)}
}

// parseScope reads TYPE:ID:OPS, such as "monitor:*:read,list"; the entity
// id may itself hold colons.
func parseScope(v string) (client.Scope, error) {
	first, last := strings.Index(v, ":"), strings.LastIndex(v, ":")
	if first <= 0 || last == first || last == len(v)-1 {
		return client.Scope{}, usageError{fmt.Errorf("scope %q: want TYPE:ID:OPS such as \"monitor:*:read,list\"", v)}
	}
	sc := client.Scope{EntityType: v[:first], EntityID: v[first+1 : last]}
	for _, op := range strings.Split(v[last+1:], ",") {
		if op = strings.TrimSpace(op); op != "" {
			sc.Operations = append(sc.Operations, op)
		}
	}
	return sc, nil
}

// printSecret shows a freshly minted secret: in a table, on stdout alone so
// that it can be redirected, with what it is and a warning on stderr.
func (a *app) printSecret(ts *client.TokenSecret, what string) error {
	if a.json() {
		return a.printJSON(ts)
	}
	exp := "never expires"
	if ts.Token.ExpiresAt != nil {
		exp = "expires " + fmtTime(ts.Token.ExpiresAt) + " UTC"
	}
	fmt.Fprintf(a.stderr, "%s: %s %q (%s, %s)\n", what, ts.Token.ID, ts.Token.Name, ts.Token.Kind, exp)
	fmt.Fprintln(a.stdout, ts.Secret)
	fmt.Fprintln(a.stderr, "Copy it now, it will not be shown again.")
	return nil
}

// printToken shows one credential in full.
func (a *app) printToken(tok *client.Token) error {
	if a.json() {
		return a.printJSON(tok)
	}
	t := a.newTable()
	t.row("ID:", tok.ID)
	t.row("Name:", tok.Name)
	t.row("Description:", tok.Description)
	t.row("Kind:", tok.Kind)
	status := tok.Status
	if tok.BlockedBy != nil {
		status += " (" + *tok.BlockedBy + ")"
	}
	t.row("Status:", status)
	t.row("Token:", tok.Display)
	t.row("Source:", tok.Source)
	t.row("Org:", tok.OrgID)
	if tok.UserID != nil {
		t.row("User:", *tok.UserID)
	}
	t.row("Created:", fmtTime(&tok.CreatedAt)+" by "+tok.CreatedBy)
	t.row("Expires:", fmtTime(tok.ExpiresAt))
	used := fmtTime(tok.LastUsedAt)
	if ip := str(tok.LastUsedIP); ip != "" {
		used += " from " + ip
	}
	t.row("Last used:", used)
	if tok.RevokedAt != nil {
		revoked := fmtTime(tok.RevokedAt)
		if by := str(tok.RevokedBy); by != "" {
			revoked += " by " + by
		}
		if why := str(tok.RevokeReason); why != "" {
			revoked += ": " + why
		}
		t.row("Revoked:", revoked)
	}
	t.row("Generation:", strconv.Itoa(tok.Generation))
	if tok.Role != nil {
		t.row("Role:", *tok.Role)
	}
	if tok.AgentID != nil {
		t.row("Agent:", *tok.AgentID)
	}
	if tok.Permissions != nil {
		t.row("Permissions:", strings.Join(tok.Permissions, " "))
	}
	if len(tok.AllowedCIDRs) > 0 {
		t.row("Allowed from:", strings.Join(tok.AllowedCIDRs, " "))
	}
	if tok.RateLimit != nil {
		t.row("Rate limit:", strconv.Itoa(*tok.RateLimit)+"/hour")
	}
	if tok.SupersededBy != nil {
		t.row("Rotated to:", *tok.SupersededBy)
	}
	if len(tok.Scopes) == 0 {
		t.row("Scopes:", "none")
	}
	for i, sc := range tok.Scopes {
		label := ""
		if i == 0 {
			label = "Scopes:"
		}
		t.row(label, fmt.Sprintf("%s  %s:%s:%s", sc.ID, sc.EntityType, sc.EntityID, strings.Join(sc.Operations, ",")))
	}
	return t.flush()
}
