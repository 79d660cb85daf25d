package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// TestReadme runs the README's commands as they stand, in an empty
// folder, with keyward and the statusboard built from this tree and on
// free ports: each must succeed and print lines like those shown under
// it ("..." stands for anything), in order.
func TestReadme(t *testing.T) {
	if testing.Short() {
		t.Skip("builds keyward: not with -short")
	}
	for _, tool := range []string{"go", "bash", "curl", "jq", "python3", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.SkipOrFail(t, tool+" is not on PATH: the README's commands need it")
		}
	}
	if err := exec.Command("python3", "-c", "import requests").Run(); err != nil {
		testenv.SkipOrFail(t, "the README's Python example needs requests: pip install requests")
	}
	dir := t.TempDir()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for pkg, out := range map[string]string{"./cmd/keyward": "keyward", "./examples/statusboard": "statusboard"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, out), pkg)
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
	}
	// The README's paths are from the repository's root.
	if err := os.MkdirAll(filepath.Join(dir, "examples", "statusboard"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "examples", "statusboard", "examples"), filepath.Join(dir, "examples", "statusboard", "examples")); err != nil {
		t.Fatal(err)
	}
	kwAddr, sbAddr := testenv.FreeAddr(t), testenv.FreeAddr(t)
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	steps := testenv.ShellSteps(string(data), "", 0)
	var script strings.Builder
	script.WriteString("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
	var run []testenv.ShellStep
	for _, s := range steps {
		c := s.Command
		switch {
		case c == "go build -o keyward ./cmd/keyward":
			continue // built above
		case strings.HasPrefix(c, "go run ./examples/statusboard"):
			c = strings.Replace(c, "go run ./examples/statusboard", "./statusboard", 1)
		}
		c = strings.ReplaceAll(strings.ReplaceAll(c, "127.0.0.1:8080", kwAddr), "127.0.0.1:8090", sbAddr)
		fmt.Fprintf(&script, "%s\n%s\n", testenv.StepMarker(len(run)), c)
		if strings.HasSuffix(strings.TrimSpace(strings.SplitN(c, "#", 2)[0]), "&") {
			addr, probe := kwAddr, "/readyz"
			if strings.Contains(c, "statusboard") {
				addr, probe = sbAddr, "/healthz"
			}
			fmt.Fprintf(&script, "for i in $(seq 100); do curl -sf http://%s%s >/dev/null && break; sleep 0.1; done\n", addr, probe)
		}
		run = append(run, s)
	}
	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "KEYWARD_ADDR=" + kwAddr, "STATUSBOARD_ADDR=" + sbAddr, "STATUSBOARD_URL=http://" + sbAddr}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "keyward.log"))
		t.Fatalf("the README's commands failed: %v\n%s\nkeyward's log:\n%s", err, out, log)
	}
	testenv.CheckSteps(t, string(out), run)
}
