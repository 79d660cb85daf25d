package testenv

import (
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
	c := startChild(tb, "traefik", cmd, logPath, syscall.SIGTERM, logFile(logPath))
	// Traefik listens before the file provider's routers are in place:
	// until then it answers 404. Wait for another answer.
	base := "http://" + addr
	c.waitReady(tb, 30*time.Second, 50*time.Millisecond, func() bool {
		if !listening(addr)() {
			return false
		}
		resp, err := http.Get(base + "/")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode != http.StatusNotFound
	})
	return base
}
