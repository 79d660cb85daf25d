package keyward_test

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

// built is the keyward that buildKeyward built, once for every test.
var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
	out  []byte
}

// buildKeyward builds cmd/keyward once into a temporary folder, as the
// Dockerfile does: static, without cgo.
func buildKeyward(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		if os.Getenv("KEYWARD_TEST_STRICT") == "1" {
			t.Fatal("the go command is not on PATH")
		}
		t.Skip("the go command is not on PATH")
	}
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "keyward-build-"); built.err != nil {
			return
		}
		built.bin = filepath.Join(built.dir, "keyward")
		cmd := exec.Command("go", "build", "-trimpath", "-o", built.bin, "./cmd/keyward")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.bin
}

// TestMain removes what buildKeyward built.
func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// knownEnv returns the KEYWARD_* variables that serve reads, from its help.
func knownEnv(t *testing.T, bin string) map[string]bool {
	t.Helper()
	out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("serve --help: %v\n%s", err, out)
	}
	known := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$(KEYWARD_[A-Z_]+)`).FindAllStringSubmatch(string(out), -1) {
		known[m[1]] = true
	}
	return known
}

// The Dockerfile builds a static binary and runs it on an empty base as a
// user other than root, set with variables serve reads, with a health
// check keyward has. (No image is built here: the machine has no image
// registry; what the image holds is checked in its parts.)
func TestDockerfile(t *testing.T) {
	bin := buildKeyward(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the binary built without cgo asks for a dynamic loader")
		}
	}
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(data)
	stages := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllStringSubmatch(df, -1)
	if len(stages) < 2 || stages[len(stages)-1][1] != "scratch" {
		t.Errorf("want a build stage and a final stage FROM scratch, got %v", stages)
	}
	if !strings.Contains(df, "CGO_ENABLED=0 go build -trimpath") {
		t.Errorf("the Dockerfile does not build as this test does (CGO_ENABLED=0 go build -trimpath)")
	}
	user := regexp.MustCompile(`(?m)^USER (\d+):(\d+)$`).FindStringSubmatch(df)
	if user == nil || user[1] == "0" {
		t.Errorf("want a numeric USER other than root, got %v", user)
	}
	known := knownEnv(t, bin)
	for _, m := range regexp.MustCompile(`(KEYWARD_[A-Z_]+)=`).FindAllStringSubmatch(df, -1) {
		if !known[m[1]] {
			t.Errorf("the Dockerfile sets %s, which serve does not read", m[1])
		}
	}
	hc := regexp.MustCompile(`HEALTHCHECK .*CMD \["/keyward", "([a-z]+)"`).FindStringSubmatch(df)
	if hc == nil {
		t.Fatalf("no HEALTHCHECK running keyward")
	}
	if out, err := exec.Command(bin, hc[1], "--help").CombinedOutput(); err != nil {
		t.Errorf("the health check runs 'keyward %s', which fails: %v\n%s", hc[1], err, out)
	}
}

// The compose file runs keyward on PostgreSQL and Redis, waiting for
// both, with variables serve reads.
func TestComposeFile(t *testing.T) {
	bin := buildKeyward(t)
	data, err := os.ReadFile("deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
			Healthcheck *struct{} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatalf("deploy/compose.yaml: %v", err)
	}
	known := knownEnv(t, bin)
	nodes := 0
	for name, s := range c.Services {
		if !strings.HasPrefix(name, "keyward") {
			if s.Healthcheck == nil {
				t.Errorf("%s has no health check for keyward to wait for", name)
			}
			continue
		}
		nodes++
		for k := range s.Environment {
			if !known[k] {
				t.Errorf("%s sets %s, which serve does not read", name, k)
			}
		}
		if !strings.HasPrefix(s.Environment["KEYWARD_DATABASE_URL"], "postgres://") || !strings.HasPrefix(s.Environment["KEYWARD_REDIS_URL"], "redis://") {
			t.Errorf("%s is not on PostgreSQL and Redis", name)
		}
		for _, dep := range []string{"postgres", "redis"} {
			if s.DependsOn[dep].Condition != "service_healthy" {
				t.Errorf("%s does not wait for %s to be healthy", name, dep)
			}
		}
	}
	if nodes < 2 {
		t.Errorf("got %d keyward nodes, want at least 2 sharing the database", nodes)
	}
}

// The systemd unit verifies, and systemd's own rating of its sandbox is
// OK (an exposure of at most 2.0 of 10).
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		if os.Getenv("KEYWARD_TEST_STRICT") == "1" {
			t.Fatal("systemd-analyze is not on PATH")
		}
		t.Skip("systemd-analyze is not on PATH")
	}
	bin := buildKeyward(t)
	data, err := os.ReadFile("deploy/keyward.service")
	if err != nil {
		t.Fatal(err)
	}
	known := knownEnv(t, bin)
	for _, m := range regexp.MustCompile(`Environment=(KEYWARD_[A-Z_]+)=`).FindAllStringSubmatch(string(data), -1) {
		if !known[m[1]] {
			t.Errorf("the unit sets %s, which serve does not read", m[1])
		}
	}
	unit := filepath.Join(t.TempDir(), "keyward.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(string(data), "/usr/local/bin/keyward", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=yes", unit).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for keyward.service: ([0-9.]+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security said no exposure level:\n%s", out)
	}
	if level, _ := strconv.ParseFloat(string(m[1]), 64); level > 2.0 {
		t.Errorf("the unit's exposure level is %s, want at most 2.0", m[1])
	}
}
