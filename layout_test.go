package keyward_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The front ends are siblings: none imports another, and the dashboard,
// MCP and OAuth link neither Redis, Prometheus nor YAML (the API's
// metrics and the configuration file are the API's and the command's).
func TestFrontEndsAreSiblings(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	const mod = "github.com/keyward/keyward/"
	fronts := []string{"api", "web", "mcp", "oauth"}
	for _, f := range fronts {
		out, err := exec.Command("go", "list", "-deps", "./"+f).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", f, err)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			for _, g := range fronts {
				if g != f && d == mod+g {
					t.Errorf("%s imports %s: front ends never import each other", f, g)
				}
			}
			if f != "api" && (strings.HasPrefix(d, "github.com/redis/") || strings.HasPrefix(d, "github.com/prometheus/") || strings.HasPrefix(d, "go.yaml.in/")) {
				t.Errorf("%s links %s", f, d)
			}
		}
	}
}

// The service's machinery, the usage gatherer and change-feed pruning,
// knows the store only through its own narrow interfaces: it imports no
// keyward package but the root, never service itself.
func TestServiceMachineryIsNarrow(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	const mod = "github.com/keyward/keyward"
	for _, p := range []string{"service/usage", "service/feed"} {
		out, err := exec.Command("go", "list", "-deps", "./"+p).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", p, err)
		}
		for _, d := range strings.Fields(string(out)) {
			if strings.HasPrefix(d, mod+"/") && d != mod+"/"+p {
				t.Errorf("%s imports %s: want the root package at most", p, d)
			}
		}
	}
}
