package testenv

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TraefikVar set to 1 runs the Traefik tests: they need a traefik binary
// on PATH, which Debian does not package and `go install` cannot build
// (Traefik's go.mod has replace directives), so CI does not set it.
const TraefikVar = "KEYWARD_TEST_TRAEFIK"

// TraefikPath returns the traefik binary. Without KEYWARD_TEST_TRAEFIK=1
// the test is skipped, even under Strict, since no machine of this
// project's CI has one; with it, a missing binary is a failure.
func TraefikPath(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(TraefikVar) != "1" {
		tb.Skip("set " + TraefikVar + "=1, with a traefik binary on PATH, to run the Traefik test; " +
			"Traefik is not in Debian and `go install` cannot build it, so CI does not run it")
	}
	path, err := exec.LookPath("traefik")
	if err != nil {
		tb.Fatalf("%s=1 but traefik is not on PATH", TraefikVar)
	}
	return path
}

// Traefik runs traefik as a child process with one entry point, web, on
// a free loopback port, and the file provider reading the dynamic
// configuration at config, with the environment variables of env (the
// file provider expands the file as a Go template). Its HOME is a
// temporary folder; it checks for no new version and sends no usage
// statistics. It returns traefik's base URL once its routers answer, and stops traefik when the test ends. When the test fails, it
// logs traefik's output, from which token-like strings are removed.
func Traefik(tb testing.TB, config string, env map[string]string) string {
	tb.Helper()
	bin := TraefikPath(tb)
	config, err := filepath.Abs(config)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	port := freePort(tb)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	logPath := filepath.Join(dir, "traefik.log")
	out, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--entryPoints.web.address="+addr,
		"--providers.file.filename="+config,
		"--providers.file.watch=false",
		"--global.checkNewVersion=false",
		"--global.sendAnonymousUsage=false",
		"--log.level=INFO",
	)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting traefik: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); out.Close() }()
	logs := func() string {
		data, _ := os.ReadFile(logPath)
		return tokenLike.ReplaceAllString(string(data), "[token]")
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("traefik's log, tokens removed:\n%s", logs())
		}
	})

	// Traefik listens before the file provider's routers are in place:
	// until then it answers 404. Wait for another answer.
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			if resp, err := http.Get(base + "/"); err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					break
				}
			}
		}
		select {
		case err := <-exited:
			exited <- err
			tb.Fatalf("traefik exited at start (%v):\n%s", err, logs())
		case <-ctx.Done():
			tb.Fatalf("traefik did not route on %s within 30s:\n%s", addr, logs())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return base
}
