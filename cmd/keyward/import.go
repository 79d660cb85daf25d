package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// importFields are the columns of an import file (CSV header, or JSON
// lines' members).
var importFields = []string{"org", "owner", "role", "name", "description", "sha256", "token", "created_at", "expires_at", "last_used_at"}

func (a *app) adminImportCmd() *cobra.Command {
	var (
		db             dbFlags
		format         string
		dryRun, strict bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE [--format csv|jsonl] [--dry-run] [--strict]",
		Short: "Bring existing keys into keyward without rotating them",
		Long: `Import reads existing keys from FILE (CSV with a header, or JSON lines; "-"
reads standard input) and makes each a token of source "imported" that
verifies through /v1/verify and /v1/auth like one keyward minted, whatever
its form. Each row names its org and either the key's SHA-256 (sha256: 64
hex digits, or base64) or the key itself (token: hashed here, never
stored), with a name and optionally an owner (the email of a member: the
key becomes their personal access token; without one it is an org API
key, of role member unless role says), a description and its created_at,
expires_at and last_used_at (RFC 3339 or YYYY-MM-DD).

A key already imported (the same hash) is left as it is, so a second run
changes nothing. A bad row is reported by its line and skipped; with
--strict any bad row refuses the whole import, which then writes nothing.
--dry-run reports what would be done and writes nothing. Columns: ` + strings.Join(importFields, ", ") + `.`,
		Args: args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			rows, bad, err := a.readImport(argv[0], format)
			if err != nil {
				return err
			}
			svc, closeSvc, err := db.openService(cmd.Context(), service.Options{})
			if err != nil {
				return err
			}
			defer closeSvc()
			run := func(dry bool) []service.ImportOutcome {
				opts := service.ImportOptions{DryRun: dry}
				if bar := a.progress(len(rows)); bar != nil {
					opts.Progress = func(int) { _ = bar.Add(1) }
					defer bar.Finish()
				}
				return svc.AdminImport(cmd.Context(), rows, opts)
			}
			if strict {
				out := append(bad, run(true)...)
				if n := refused(out); n > 0 {
					a.printImport(out, true)
					return fmt.Errorf("--strict: %d of %d rows would be refused; nothing was imported", n, len(out))
				}
			}
			out := append(bad, run(dryRun)...)
			return a.printImport(out, dryRun)
		},
	}
	db.add(a, cmd)
	cmd.Flags().StringVar(&format, "format", "", "csv or jsonl (default from the file's extension, .csv or .jsonl/.ndjson)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would be done; write nothing")
	cmd.Flags().BoolVar(&strict, "strict", false, "refuse the whole import if any row is bad")
	return cmd
}

// progress is a bar on stderr for an import of n rows, when stderr is a
// terminal; nil otherwise.
func (a *app) progress(n int) *progressbar.ProgressBar {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(a.stderr), progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

func refused(out []service.ImportOutcome) int {
	n := 0
	for _, o := range out {
		if o.Action == service.ImportRefused {
			n++
		}
	}
	return n
}

// importOut is one row's outcome as import prints it in JSON.
type importOut struct {
	Line    int    `json:"line"`
	Action  string `json:"action"`
	TokenID string `json:"token_id,omitempty"`
	Error   string `json:"error,omitempty"`
}

// printImport prints the refused rows and a summary (every row in JSON).
func (a *app) printImport(out []service.ImportOutcome, dryRun bool) error {
	counts := map[string]int{}
	rows := make([]importOut, len(out))
	for i, o := range out {
		counts[o.Action]++
		rows[i] = importOut{Line: o.Line, Action: o.Action, TokenID: o.TokenID}
		if o.Err != nil {
			rows[i].Error = keyward.ErrorMessage(o.Err)
		}
	}
	if a.json() {
		return a.printJSON(map[string]any{"dry_run": dryRun, "rows": rows, "created": counts[service.ImportCreated],
			"unchanged": counts[service.ImportUnchanged], "refused": counts[service.ImportRefused]})
	}
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(a.stderr, "line %d: %s\n", r.Line, r.Error)
		}
	}
	verb := "Imported"
	if dryRun {
		verb = "Would import"
	}
	fmt.Fprintf(a.stdout, "%s %d keys; %d were there already; %d rows refused.\n", verb, counts[service.ImportCreated], counts[service.ImportUnchanged], counts[service.ImportRefused])
	return nil
}

// readImport reads an import file: the rows it could read, and an outcome
// for each row it could not (its line, refused, why).
func (a *app) readImport(path, format string) ([]service.ImportRow, []service.ImportOutcome, error) {
	var r io.Reader
	if path == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		r = f
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".csv":
			format = "csv"
		case ".jsonl", ".ndjson":
			format = "jsonl"
		default:
			return nil, nil, usageError{fmt.Errorf("give --format csv or jsonl for %s", path)}
		}
	}
	switch format {
	case "csv":
		return readImportCSV(r)
	case "jsonl":
		return readImportJSONL(r)
	}
	return nil, nil, usageError{fmt.Errorf("--format %q: want csv or jsonl", format)}
}

func readImportCSV(r io.Reader) ([]service.ImportRow, []service.ImportOutcome, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(importFields, h) {
			return nil, nil, fmt.Errorf("the CSV header names an unknown column %q; the columns are %s", h, strings.Join(importFields, ", "))
		}
		col[h] = i
	}
	var rows []service.ImportRow
	var bad []service.ImportOutcome
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, bad, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				bad = append(bad, service.ImportOutcome{Line: pe.Line, Action: service.ImportRefused, Err: keyward.Errorf(keyward.EINVALID, "not a CSV record")})
				continue
			}
			return nil, nil, err
		}
		line, _ := cr.FieldPos(0)
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row, err := importRow(line, get)
		if err != nil {
			bad = append(bad, service.ImportOutcome{Line: line, Action: service.ImportRefused, Err: err})
			continue
		}
		rows = append(rows, row)
	}
}

func readImportJSONL(r io.Reader) ([]service.ImportRow, []service.ImportOutcome, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var rows []service.ImportRow
	var bad []service.ImportOutcome
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			bad = append(bad, service.ImportOutcome{Line: line, Action: service.ImportRefused, Err: keyward.Errorf(keyward.EINVALID, "not a JSON object")})
			continue
		}
		var unknown []string
		for k := range m {
			if !slices.Contains(importFields, k) {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			bad = append(bad, service.ImportOutcome{Line: line, Action: service.ImportRefused, Err: keyward.Errorf(keyward.EINVALID, "unknown members; the members are %s", strings.Join(importFields, ", "))})
			continue
		}
		get := func(name string) string {
			s, _ := m[name].(string)
			return strings.TrimSpace(s)
		}
		row, err := importRow(line, get)
		if err != nil {
			bad = append(bad, service.ImportOutcome{Line: line, Action: service.ImportRefused, Err: err})
			continue
		}
		rows = append(rows, row)
	}
	return rows, bad, sc.Err()
}

// importRow makes a row of the fields get reads.
func importRow(line int, get func(string) string) (service.ImportRow, error) {
	row := service.ImportRow{Line: line, Org: get("org"), Owner: get("owner"), Role: keyward.Role(get("role")),
		Name: get("name"), Description: get("description"), SHA256: get("sha256"), Token: get("token")}
	for _, f := range []struct {
		name string
		to   **time.Time
	}{{"created_at", &row.CreatedAt}, {"expires_at", &row.ExpiresAt}, {"last_used_at", &row.LastUsedAt}} {
		v := get(f.name)
		if v == "" {
			continue
		}
		t, err := parseImportTime(v)
		if err != nil {
			return row, keyward.Errorf(keyward.EINVALID, "%s: want RFC 3339 or YYYY-MM-DD", f.name)
		}
		*f.to = &t
	}
	return row, nil
}

func parseImportTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse(time.DateOnly, v)
}
