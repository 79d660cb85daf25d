package keyward_test

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// TestReadmeTests holds the README's Tests section to the code: one
// section, with one row for each KEYWARD_TEST_* variable that a Go file
// reads, and none for a variable no file reads.
func TestReadmeTests(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	if n := strings.Count(readme, "\n## Tests\n"); n != 1 {
		t.Fatalf("the README has %d Tests sections, want 1", n)
	}
	section := readme[strings.Index(readme, "\n## Tests\n"):]
	if i := strings.Index(section[1:], "\n## "); i >= 0 {
		section = section[:i+1]
	}
	rows := map[string]int{}
	for _, m := range regexp.MustCompile("(?m)^\\| `(KEYWARD_TEST_[A-Z_]+)").FindAllStringSubmatch(section, -1) {
		rows[m[1]]++
	}
	used := map[string]bool{}
	name := regexp.MustCompile(`KEYWARD_TEST_[A-Z_]+`)
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, v := range name.FindAllString(string(src), -1) {
			used[v] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for v := range used {
		if rows[v] != 1 {
			t.Errorf("the README's Tests table has %d rows for %s, want 1", rows[v], v)
		}
	}
	for v := range rows {
		if !used[v] {
			t.Errorf("the README's Tests table names %s, which no Go file reads", v)
		}
	}
}

// TestReadmeProxies: the README points to the proxies' configurations in
// docs/proxies, which the tests run, rather than inline copies that no
// test runs.
func TestReadmeProxies(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, f := range []string{"docs/proxies/nginx.conf", "docs/proxies/Caddyfile", "docs/proxies/traefik.yml"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%v", err)
		}
		if !strings.Contains(readme, "("+f+")") {
			t.Errorf("the README does not link %s", f)
		}
	}
	for _, inline := range []string{"auth_request_set", "copy_headers X-Keyward", "forwardAuth.address", "forward_auth 127"} {
		if strings.Contains(readme, inline) {
			t.Errorf("the README holds an inline proxy configuration (%q); point to docs/proxies instead", inline)
		}
	}
}

// TestReadmeQuickStart runs the README's Quick start as it stands, and the
// block of further steps after it, in an empty folder with a keyward
// built from this tree, on a free port instead of 8080: each command must
// succeed, and what a command prints must match the comment lines shown
// below it ("..." stands for anything), in order.
func TestReadmeQuickStart(t *testing.T) {
	for _, tool := range []string{"go", "bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("KEYWARD_TEST_STRICT") == "1" {
				t.Fatalf("%s is not on PATH", tool)
			}
			t.Skipf("%s is not on PATH", tool)
		}
	}
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	quick := testenv.ShellSteps(string(data), "## Quick start", 1)
	both := testenv.ShellSteps(string(data), "## Quick start", 2)
	const build = "go build -o keyward ./cmd/keyward"
	if len(quick) == 0 || quick[0].Command != build {
		t.Fatalf("the Quick start must begin with %q", build)
	}
	if n := len(quick); n > 6 {
		t.Errorf("the Quick start has %d commands, want at most 6", n)
	}
	if len(both) == len(quick) {
		t.Fatal("the Quick start has no block of further steps after it")
	}
	dir := t.TempDir()
	b, err := os.ReadFile(buildKeyward(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keyward"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreeAddr(t)

	var script strings.Builder
	script.WriteString("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
	var steps []testenv.ShellStep
	for _, s := range both {
		if s.Command == build {
			continue // built above, from this tree
		}
		fmt.Fprintf(&script, "%s\n%s\n", testenv.StepMarker(len(steps)), strings.ReplaceAll(s.Command, "127.0.0.1:8080", addr))
		if strings.HasSuffix(strings.TrimSpace(stripComment(s.Command)), "&") {
			// A person types slower than a server starts; a script waits.
			fmt.Fprintf(&script, "for i in $(seq 100); do curl -sf http://%s/readyz >/dev/null && break; sleep 0.1; done\n", addr)
		}
		steps = append(steps, s)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	// serve's default address is 127.0.0.1:8080, which the README names.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "KEYWARD_ADDR=" + addr}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's commands failed: %v\n%s\nlog:\n%s", err, out, readFile(filepath.Join(dir, "keyward.log")))
	}
	testenv.CheckSteps(t, string(out), steps)
}

// stripComment drops a trailing shell comment (" # ...") from a line.
func stripComment(line string) string {
	if i := strings.Index(line, " # "); i >= 0 {
		return line[:i]
	}
	return line
}

func readFile(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
