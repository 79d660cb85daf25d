package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

// auditFlags are the filters of 'audit list' and 'audit export'.
type auditFlags struct {
	f            client.AuditFilter
	since, until string
}

func (af *auditFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&af.f.Action, "action", "", "only this action, such as token.revoked")
	f.StringVar(&af.f.Actor, "actor", "", "only this actor: a user id, token id or operator")
	f.StringVar(&af.f.Target, "target", "", "only this target id")
	f.StringVar(&af.since, "since", "", `only from this time: RFC 3339, a date, or an age such as "24h" or "7d"`)
	f.StringVar(&af.until, "until", "", "only up to this time, as --since")
}

// filter returns the filter with --since and --until resolved against now.
func (af *auditFlags) filter(now time.Time) (client.AuditFilter, error) {
	f := af.f
	var err error
	if f.Since, err = parseWhen("--since", af.since, now); err != nil {
		return f, err
	}
	if f.Until, err = parseWhen("--until", af.until, now); err != nil {
		return f, err
	}
	return f, nil
}

// parseWhen reads a point in time: RFC 3339, a date, or an age before now
// ("90m", "24h", "7d").
func parseWhen(name, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(v, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err == nil && n >= 0 && fmt.Sprint(n) == days {
			return now.Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	t, err := parseTimeFlag(name, v)
	if err != nil {
		return time.Time{}, usageError{fmt.Errorf("%s %q: want an RFC 3339 time, a date, or an age such as 24h or 7d", name, v)}
	}
	return *t, nil
}

func (a *app) auditCmd() *cobra.Command {
	var conn apiConn
	group := &cobra.Command{
		Use:   "audit",
		Short: "Read an org's audit log",
	}
	a.addAPIFlags(group, &conn)
	a.addOrgFlag(group, &conn)

	var lf auditFlags
	list := &cobra.Command{
		Use:   "list",
		Short: "List audit events, newest first",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := lf.filter(time.Now())
			if err != nil {
				return err
			}
			cl, org, err := a.orgClient(cmd.Context(), &conn)
			if err != nil {
				return err
			}
			page, err := cl.Audit(cmd.Context(), org, f)
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(page)
			}
			t := a.newTable("TIME", "ACTION", "ACTOR", "TARGET", "IP", "DETAILS")
			for _, e := range page.Events {
				t.row(e.Time.UTC().Format("2006-01-02 15:04:05"), e.Action, e.Actor, e.Target, e.IP, compactJSON(e.Details))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if page.NextCursor != nil && *page.NextCursor != "" {
				fmt.Fprintf(a.stderr, "More: --cursor %s\n", *page.NextCursor)
			}
			return nil
		},
	}
	lf.add(list)
	list.Flags().IntVar(&lf.f.Limit, "limit", 0, "page size (default 50, at most 200)")
	list.Flags().StringVar(&lf.f.Cursor, "cursor", "", "start after this cursor of a previous page")

	var ef auditFlags
	export := &cobra.Command{
		Use:   "export",
		Short: "Write every matching audit event to stdout as JSON lines",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ef.filter(time.Now())
			if err != nil {
				return err
			}
			cl, org, err := a.orgClient(cmd.Context(), &conn)
			if err != nil {
				return err
			}
			n, err := cl.ExportAudit(cmd.Context(), org, f, a.stdout)
			if err != nil {
				return fmt.Errorf("export stopped after %d events: %w", n, err)
			}
			fmt.Fprintf(a.stderr, "Exported %d events.\n", n)
			return nil
		},
	}
	ef.add(export)
	group.AddCommand(list, export)
	return group
}

// compactJSON shows audit details on one line.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	b, _ := json.Marshal(v)
	return string(b)
}
