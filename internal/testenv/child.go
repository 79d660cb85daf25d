package testenv

import (
	"context"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// binary finds the program name on PATH or at one of paths. Without it
// the test is skipped, or fails when envVar=1 or under Strict; install
// says how to get it.
func binary(tb testing.TB, name, envVar, install string, paths ...string) string {
	tb.Helper()
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := name + " is not installed (" + install + "); " + envVar + "=1 makes this a failure"
	if os.Getenv(envVar) == "1" {
		tb.Fatal(msg)
	}
	SkipOrFail(tb, msg)
	return ""
}

// child is a server that a test runs as a child process, in a process
// group of its own, its output in a log file.
type child struct {
	name   string
	cmd    *exec.Cmd
	exited chan error
	logs   func() string
}

// startChild starts cmd, its output into logPath, and stops it when the
// test ends: stop, then SIGKILL to its whole group after 10 s. When the
// test fails, it logs what logs returns (token-like strings removed).
func startChild(tb testing.TB, name string, cmd *exec.Cmd, logPath string, stop syscall.Signal, logs func() string) *child {
	tb.Helper()
	out, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		out.Close()
		tb.Fatalf("starting %s: %v", name, err)
	}
	c := &child{name: name, cmd: cmd, exited: make(chan error, 1), logs: logs}
	go func() { c.exited <- cmd.Wait(); out.Close() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(stop) // graceful shutdown
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-c.exited
		}
	})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s's log, tokens removed:\n%s", name, logs())
		}
	})
	return c
}

// logFile returns the file at path with token-like strings replaced.
func logFile(path string) func() string {
	return func() string {
		data, _ := os.ReadFile(path)
		return tokenLike.ReplaceAllString(string(data), "[token]")
	}
}

// waitReady polls ready every interval until it reports true, failing the
// test if the child exits first or within passes.
func (c *child) waitReady(tb testing.TB, within, interval time.Duration, ready func() bool) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for !ready() {
		select {
		case err := <-c.exited:
			c.exited <- err
			tb.Fatalf("%s exited at start (%v):\n%s", c.name, err, c.logs())
		case <-ctx.Done():
			tb.Fatalf("%s was not ready within %s:\n%s", c.name, within, c.logs())
		case <-time.After(interval):
		}
	}
}

// listening reports whether something accepts connections at addr.
func listening(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}
