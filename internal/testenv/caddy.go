package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// CaddyVar set to 1 makes the Caddy tests fail, instead of skipping,
// when caddy is not installed.
const CaddyVar = "KEYWARD_TEST_CADDY"

// CaddyPath returns the caddy binary. Without one the test is skipped,
// or fails when KEYWARD_TEST_CADDY=1 or Strict.
func CaddyPath(tb testing.TB) string {
	tb.Helper()
	return binary(tb, "caddy", CaddyVar, "apt-get install caddy", "/usr/bin/caddy", "/usr/local/bin/caddy")
}

// Caddy runs caddy as a child process with the Caddyfile at config, on a
// free loopback port that it passes, as http://127.0.0.1:PORT, in the
// environment variable siteVar, with the other variables of env. Its
// HOME and XDG folders are temporary, so that it writes nothing outside
// them; the Caddyfile must turn the admin endpoint off (admin off), so
// that nothing listens on :2019. It returns caddy's base URL and stops
// caddy when the test ends. When the test fails, it logs caddy's output,
// from which token-like strings are removed.
func Caddy(tb testing.TB, config, siteVar string, env map[string]string) string {
	tb.Helper()
	bin := CaddyPath(tb)
	config, err := filepath.Abs(config)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	port := freePort(tb)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(dir, "caddy.log")
	cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", config)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		siteVar + "=http://" + addr,
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	c := startChild(tb, "caddy", cmd, logPath, syscall.SIGTERM, logFile(logPath))
	c.waitReady(tb, 15*time.Second, 20*time.Millisecond, listening(addr))
	return "http://" + addr
}
