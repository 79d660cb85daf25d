package keyward_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
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
