package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/sqlite"
)

// For scripts: off a terminal a table is tab-separated lines without
// padding or header; --json keeps the fields named, of each item of a
// list, and composes with --jq; an unknown field is a usage error that
// names the fields there are.
func TestScriptOutput(t *testing.T) {
	api := newFakeAPI(t, testToken, map[string]fakeAnswer{
		"GET /v1/tokens":       {body: `{"tokens":[` + tokJSON + `],"next_cursor":""}`},
		"GET /v1/tokens/tok_1": {body: tokJSON},
	})
	env := map[string]string{"KEYWARD_URL": api.srv.URL, "KEYWARD_TOKEN": testToken, "KEYWARD_FORCE_TTY": "0"}

	r := runCLI(t, env, "", "token", "list")
	if r.code != 0 || r.stdout != "tok_1\tci\tpat\tkw_pat_abc...wxyz\tactive\tcli\t2025-01-02 03:04\t2025-04-02 03:04\t-\n" {
		t.Errorf("token list off a terminal: exit %d, got %q, want one tab-separated line", r.code, r.stdout)
	}
	env["KEYWARD_FORCE_TTY"] = "1"
	if r := runCLI(t, env, "", "token", "list"); !strings.HasPrefix(r.stdout, "ID  ") || strings.Contains(r.stdout, "\t") {
		t.Errorf("token list on a terminal: got %q, want aligned columns under a header", r.stdout)
	}

	r = runCLI(t, env, "", "token", "list", "--json", "id,status")
	if r.code != 0 || strings.Join(strings.Fields(r.stdout), "") != `[{"id":"tok_1","status":"active"}]` {
		t.Errorf("token list --json id,status: exit %d, got %q", r.code, r.stdout)
	}
	r = runCLI(t, env, "", "token", "show", "tok_1", "--json", "name,scopes", "--jq", ".scopes[0].entity_type, .name")
	if r.code != 0 || r.stdout != "monitor\nci\n" {
		t.Errorf("token show --json --jq: exit %d, got %q", r.code, r.stdout)
	}
	r = runCLI(t, env, "", "token", "list", "--json", "id,secret")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown field "secret"`) || !strings.Contains(r.stderr, "display, expires_at") || r.stdout != "" {
		t.Errorf("an unknown field: exit %d, stderr %q, stdout %q; want 2 naming the fields", r.code, r.stderr, r.stdout)
	}
}

// The command line as gh's: --version, an unknown command exits 1 with a
// suggestion, a refused or missing credential exits 4, and completion
// scripts for four shells.
func TestCommandLineConventions(t *testing.T) {
	if r := runCLI(t, nil, "", "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "keyward ") {
		t.Errorf("--version: exit %d, %q", r.code, r.stdout)
	}
	if r := runCLI(t, nil, "", "tokn"); r.code != 1 || !strings.Contains(r.stderr, "Did you mean this?\n\ttoken") {
		t.Errorf("unknown command: exit %d, %q", r.code, r.stderr)
	}
	if r := runCLI(t, nil, "", "health", "--url", "http://127.0.0.1:1"); r.code != 1 || !strings.Contains(r.stderr, "is not ready") {
		t.Errorf("health of nothing: exit %d, %q; want 1", r.code, r.stderr)
	}
	if r := runCLI(t, map[string]string{"KEYWARD_URL": "http://127.0.0.1:1"}, "", "whoami"); r.code != 4 {
		t.Errorf("no token: exit %d, %q; want 4", r.code, r.stderr)
	}
	for shell, want := range map[string]string{"bash": "bash completion", "zsh": "#compdef keyward", "fish": "complete -c keyward", "powershell": "Register-ArgumentCompleter"} {
		if r := runCLI(t, nil, "", "completion", shell); r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, %d bytes without %q", shell, r.code, len(r.stdout), want)
		}
	}
}

// migrate status reads what is applied without changing anything: a
// database file that does not exist is not created.
func TestMigrateStatus(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.db")
	env := map[string]string{"KEYWARD_DATABASE_URL": path}
	ms, err := sqlite.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	n := len(ms)
	r := runCLI(t, env, "", "migrate", "status", "--jq", ".pending, (.migrations | length)")
	if r.code != 0 || r.stdout != fmt.Sprintf("%d\n%d\n", n, n) {
		t.Fatalf("status of no database: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("migrate status made the database file: %v", err)
	}
	if r := runCLI(t, env, "", "migrate"); r.code != 0 {
		t.Fatalf("migrate: exit %d, %q", r.code, r.stderr)
	}
	r = runCLI(t, env, "", "migrate", "status")
	if r.code != 0 || strings.Contains(r.stdout, "pending") || !strings.Contains(r.stderr, fmt.Sprintf("%d of %d applied, 0 pending.", n, n)) {
		t.Errorf("status after migrate: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
}
