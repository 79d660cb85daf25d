package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/itchyny/gojq"

	"github.com/keyward/keyward/client"
)

// json reports whether the output is JSON for scripts.
func (a *app) json() bool { return a.output == "json" }

// printJSON writes v as indented JSON to stdout, or, with --jq, each
// value the query yields: a string as it is, anything else as JSON.
func (a *app) printJSON(v any) error {
	if a.query != nil {
		return a.printQuery(v)
	}
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

// compileJQ parses and compiles a --jq expression.
func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("--jq: %w", err)
	}
	code, err := gojq.Compile(q)
	if err != nil {
		return nil, fmt.Errorf("--jq: %w", err)
	}
	return code, nil
}

// printQuery runs the --jq query on v as its JSON form and prints what it
// yields, one value a line.
func (a *app) printQuery(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	var in any
	if err := json.Unmarshal(b, &in); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	iter := a.query.Run(in)
	for {
		out, ok := iter.Next()
		if !ok {
			return nil
		}
		if err, ok := out.(error); ok {
			return fmt.Errorf("--jq: %w", err)
		}
		if s, ok := out.(string); ok {
			fmt.Fprintln(a.stdout, s)
			continue
		}
		line, err := gojq.Marshal(out)
		if err != nil {
			return fmt.Errorf("--jq: %w", err)
		}
		fmt.Fprintf(a.stdout, "%s\n", line)
	}
}
