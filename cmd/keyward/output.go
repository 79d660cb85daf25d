package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/itchyny/gojq"
	"golang.org/x/term"

	"github.com/keyward/keyward/client"
)

// json reports whether the output is JSON for scripts.
func (a *app) json() bool { return a.output == "json" }

// printJSON writes v as indented JSON to stdout, or, with --jq, each
// value the query yields: a string as it is, anything else as JSON.
func (a *app) printJSON(v any) error {
	if a.fields != nil {
		p, err := project(v, a.fields)
		if err != nil {
			return err
		}
		v = p
	}
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

// table writes aligned columns on a terminal and, for scripts, lines of
// tab-separated cells without padding or header, as gh does. Call row
// for each line, then flush.
type table struct {
	tw  *tabwriter.Writer // nil when not on a terminal
	out io.Writer
}

// newTable starts a table on stdout with the given header, which only a
// terminal shows.
func (a *app) newTable(header ...string) *table {
	if !a.tty() {
		return &table{out: a.stdout}
	}
	t := &table{tw: tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0), out: a.stdout}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// tty reports whether stdout is a terminal, or KEYWARD_FORCE_TTY=1 says to
// write as if it were.
func (a *app) tty() bool {
	if v := a.getenv("KEYWARD_FORCE_TTY"); v != "" {
		return v == "1"
	}
	f, ok := a.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// row adds one line; empty cells show as "-".
func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
		cells[i] = strings.NewReplacer("\t", " ", "\n", " ").Replace(cells[i])
	}
	if t.tw == nil {
		fmt.Fprintln(t.out, strings.Join(cells, "\t"))
		return
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

// flush writes the table out.
func (t *table) flush() error {
	if t.tw == nil {
		return nil
	}
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

// project keeps only fields of v's JSON form: of each item of a list (an
// array, or the one array of objects in a list's answer, such as
// {"tokens": [...], "next_cursor": ...}), or of the object itself. A field
// that is not there is a usage error naming those that are.
func project(v any, fields []string) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("writing JSON: %w", err)
	}
	var in any
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("writing JSON: %w", err)
	}
	if m, ok := in.(map[string]any); ok {
		var lists []string
		for k, x := range m {
			if xs, ok := x.([]any); ok && (len(xs) == 0 || isObject(xs[0])) {
				lists = append(lists, k)
			}
		}
		if len(lists) == 1 && len(m) <= 2 {
			in = m[lists[0]]
		}
	}
	switch x := in.(type) {
	case []any:
		out := make([]any, len(x))
		for i, item := range x {
			m, ok := item.(map[string]any)
			if !ok {
				return nil, usageError{errors.New("--json: this output is not a list of objects")}
			}
			p, err := pick(m, fields)
			if err != nil {
				return nil, err
			}
			out[i] = p
		}
		return out, nil
	case map[string]any:
		return pick(x, fields)
	}
	return nil, usageError{errors.New("--json: this output has no fields")}
}

func isObject(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

// pick keeps fields of m (JSON prints them in the order of their names).
func pick(m map[string]any, fields []string) (map[string]any, error) {
	out := make(map[string]any, len(fields))
	for _, f := range fields {
		v, ok := m[f]
		if !ok {
			have := make([]string, 0, len(m))
			for k := range m {
				have = append(have, k)
			}
			slices.Sort(have)
			return nil, usageError{fmt.Errorf("--json: unknown field %q; the fields are %s", f, strings.Join(have, ", "))}
		}
		out[f] = v
	}
	return out, nil
}
