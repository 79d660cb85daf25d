package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// --jq filters the JSON output: a string prints as it is, anything else
// as JSON, one value a line; a bad expression is a usage error (exit 2)
// that changes nothing.
func TestJQ(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config")}
	boot := []string{"bootstrap", "--email", "ann@example.com", "--org", "Acme"}

	r := runCLI(t, env, "", append(boot, "--jq", ".secret | ")...)
	if r.code != 2 || !strings.Contains(r.stderr, "--jq") || r.stdout != "" {
		t.Fatalf("a bad expression: got exit %d, stdout %d bytes, stderr %q; want 2 naming --jq", r.code, len(r.stdout), r.stderr)
	}
	r = runCLI(t, env, "", append(boot, "--jq", ".secret, .org.slug, .token.scopes, .org")...)
	if r.code != 0 {
		t.Fatalf("bootstrap --jq: exit %d, %q", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 || !regexp.MustCompile(`^kw_pat_[0-9A-Za-z]+$`).MatchString(lines[0]) || lines[1] != "acme" || lines[2] != "[]" ||
		!strings.HasPrefix(lines[3], `{"created_at":`) {
		t.Errorf("bootstrap --jq: got %d lines, want the secret raw, the slug raw, [] and the org as JSON", len(lines))
	}
}
