package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// The owner's password comes from a file, a prompt or is generated; a
// prompt with no terminal, or two sources at once, fail and change
// nothing.
func TestBootstrapPasswordSources(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config")}
	boot := []string{"-o", "json", "bootstrap", "--email", "ann@example.com", "--org", "Acme"}

	r := runCLI(t, env, "", append(boot, "--password-prompt")...)
	if r.code == 0 || !strings.Contains(r.stderr, "no terminal to prompt on") {
		t.Fatalf("prompt without a terminal: got exit %d, %q; want a failure saying so", r.code, r.stderr)
	}
	r = runCLI(t, env, "correct horse battery\n", append(boot, "--password-prompt", "--password-file", "-")...)
	if r.code == 0 || !strings.Contains(r.stderr, "not both") {
		t.Fatalf("prompt and file: got exit %d, %q; want a usage failure", r.code, r.stderr)
	}
	// Nothing was made: a bootstrap from a file succeeds, and prints no
	// password since it generated none.
	r = runCLI(t, env, "correct horse battery\n", append(boot, "--password-file", "-")...)
	if r.code != 0 {
		t.Fatalf("bootstrap from a file: exit %d, %q", r.code, r.stderr)
	}
	var out struct {
		Password *string `json:"password"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Password != nil {
		t.Errorf("bootstrap from a file: got password field %v (%v), want none", out.Password != nil, err)
	}
}
