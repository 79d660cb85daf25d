package testenv

import (
	"context"
	"net"
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
	path, err := exec.LookPath("caddy")
	if err != nil {
		for _, p := range []string{"/usr/bin/caddy", "/usr/local/bin/caddy"} {
			if _, serr := os.Stat(p); serr == nil {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		msg := "caddy is not installed (apt-get install caddy); " + CaddyVar + "=1 makes this a failure"
		if os.Getenv(CaddyVar) == "1" {
			tb.Fatal(msg)
		}
		SkipOrFail(tb, msg)
	}
	return path
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
	out, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
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
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting caddy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	logs := func() string {
		data, _ := os.ReadFile(logPath)
		return tokenLike.ReplaceAllString(string(data), "[token]")
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM) // graceful shutdown
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("caddy's log, tokens removed:\n%s", logs())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			exited <- err
			tb.Fatalf("caddy exited at start (%v):\n%s", err, logs())
		case <-ctx.Done():
			tb.Fatalf("caddy did not listen on %s within 15s:\n%s", addr, logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "http://" + addr
}
