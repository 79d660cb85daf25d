package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyward/keyward/client"
)

// json reports whether the output is JSON for scripts.
func (a *app) json() bool { return a.output == "json" }

// printJSON writes v as indented JSON to stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// table writes aligned columns. Call row for each line, then flush.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table on w with the given header.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row adds one line; empty cells show as "-".
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cells[i])
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush writes the table out.
func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return fmt.Errorf("writing the table: %w", err)
	}
	return nil
}

// timeFormat is how tables show times: UTC, to the minute.
const timeFormat = "2006-01-02 15:04"

// fmtTime formats an optional time for a table; nil shows as "".
func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeFormat)
}

// str returns *s, or "" for nil.
func str(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// person shows a user as "Name <email> (id)", or "email (id)" without a
// name.
func person(u client.User) string {
	if u.Name == "" {
		return fmt.Sprintf("%s (%s)", u.Email, u.ID)
	}
	return fmt.Sprintf("%s <%s> (%s)", u.Name, u.Email, u.ID)
}
