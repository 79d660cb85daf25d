package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// readmeStep is one command of the README and the output shown under it
// as comment lines.
type readmeStep struct {
	command string
	output  []string
}

// readmeSteps returns the commands of every ```sh block of the README, in
// order; a line ending in '\' goes on on the next.
func readmeSteps(t *testing.T) []readmeStep {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var steps []readmeStep
	in, cont := false, false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case line == "```sh":
			in = true
		case in && line == "```":
			in = false
		case !in:
		case cont:
			steps[len(steps)-1].command += "\n" + line
			cont = strings.HasSuffix(line, `\`)
		case strings.HasPrefix(line, "# "):
			steps[len(steps)-1].output = append(steps[len(steps)-1].output, strings.TrimPrefix(line, "# "))
		case strings.TrimSpace(line) != "":
			steps = append(steps, readmeStep{command: line})
			cont = strings.HasSuffix(line, `\`)
		}
	}
	return steps
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

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
	kwAddr, sbAddr := freeAddr(t), freeAddr(t)
	steps := readmeSteps(t)
	var script strings.Builder
	script.WriteString("set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n")
	var run []readmeStep
	for _, s := range steps {
		c := s.command
		switch {
		case c == "go build -o keyward ./cmd/keyward":
			continue // built above
		case strings.HasPrefix(c, "go run ./examples/statusboard"):
			c = strings.Replace(c, "go run ./examples/statusboard", "./statusboard", 1)
		}
		c = strings.ReplaceAll(strings.ReplaceAll(c, "127.0.0.1:8080", kwAddr), "127.0.0.1:8090", sbAddr)
		fmt.Fprintf(&script, "echo '@@step %d@@'\n%s\n", len(run), c)
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
	parts := regexp.MustCompile(`(?m)^@@step (\d+)@@\n`).Split(string(out), -1)[1:]
	if len(parts) != len(run) {
		t.Fatalf("got the output of %d steps, want %d:\n%s", len(parts), len(run), out)
	}
	for i, s := range run {
		lines := strings.Split(strings.TrimRight(parts[i], "\n"), "\n")
		next := 0
		for _, want := range s.output {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(want), `\.\.\.`, ".*") + "$")
			for next < len(lines) && !re.MatchString(lines[next]) {
				next++
			}
			if next == len(lines) {
				t.Errorf("%s\nprinted\n%s\nwith no line like %q after the ones before it", s.command, parts[i], want)
				break
			}
			next++
		}
	}
}
