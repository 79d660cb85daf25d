package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NodeVar set to 1 enables the tests that run real Node.js programs (MCP
// clients and the MCP conformance suite) against keyward. They need node
// and npm on PATH and the npm registry, or an npm cache that holds the
// pinned packages.
const NodeVar = "KEYWARD_TEST_NODE"

// Node returns the paths of node and npm. Without KEYWARD_TEST_NODE=1, or
// without both on PATH, the test is skipped, or fails when Strict.
func Node(tb testing.TB) (node, npm string) {
	tb.Helper()
	if os.Getenv(NodeVar) != "1" {
		SkipOrFail(tb, "set "+NodeVar+"=1 to run the tests with Node.js clients (node and npm on PATH)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		SkipOrFail(tb, NodeVar+"=1 but node is not on PATH")
	}
	npm, err = exec.LookPath("npm")
	if err != nil {
		SkipOrFail(tb, NodeVar+"=1 but npm is not on PATH")
	}
	return node, npm
}

// npmStamp is the file in node_modules that records which lock file it was
// installed from.
const npmStamp = ".keyward-installed-from"

// NPMInstall installs the packages that dir's package-lock.json pins into
// dir/node_modules with 'npm ci', unless they were already installed from
// that very lock file. It fails the test, with npm's output, when the
// install fails.
func NPMInstall(tb testing.TB, npm, dir string) {
	tb.Helper()
	lock, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		tb.Fatalf("reading the lock file: %v", err)
	}
	sum := sha256.Sum256(lock)
	want := hex.EncodeToString(sum[:])
	stamp := filepath.Join(dir, "node_modules", npmStamp)
	if got, err := os.ReadFile(stamp); err == nil && strings.TrimSpace(string(got)) == want {
		return
	}
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	if err := os.WriteFile(stamp, []byte(want+"\n"), 0o644); err != nil {
		tb.Fatalf("recording the install: %v", err)
	}
}
