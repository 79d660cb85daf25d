package keyward_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The front ends are siblings: none imports another, and the dashboard
// links neither Redis nor Prometheus. (mcp and oauth still reach api for
// the per-address limiter, and through it go-redis and Prometheus; that
// is the one exception left, named here so it cannot grow.)
func TestFrontEndsAreSiblings(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	const mod = "github.com/keyward/keyward/"
	fronts := []string{"api", "web", "mcp", "oauth"}
	allowed := map[string]bool{"mcp->api": true, "oauth->api": true}
	for _, f := range fronts {
		out, err := exec.Command("go", "list", "-deps", "./"+f).Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", f, err)
		}
		deps := strings.Fields(string(out))
		for _, d := range deps {
			for _, g := range fronts {
				if g != f && d == mod+g && !allowed[f+"->"+g] {
					t.Errorf("%s imports %s: front ends never import each other", f, g)
				}
			}
			if f == "web" && (strings.HasPrefix(d, "github.com/redis/") || strings.HasPrefix(d, "github.com/prometheus/")) {
				t.Errorf("web links %s", d)
			}
		}
	}
}
