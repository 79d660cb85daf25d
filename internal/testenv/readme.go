package testenv

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
)

// ShellStep is one command of a Markdown ```sh block and the output
// shown under it as comment lines ("# ..."; "..." in them stands for
// anything).
type ShellStep struct {
	Command string
	Output  []string
}

// ShellSteps returns the steps of the ```sh blocks of md after the line
// after (all of md when ""), of the first n blocks (every block when n
// is 0). A comment line belongs to the command above it; a line ending in
// '\' goes on on the next.
func ShellSteps(md, after string, n int) []ShellStep {
	if after != "" {
		i := strings.Index(md, "\n"+after+"\n")
		if i < 0 {
			return nil
		}
		md = md[i:]
	}
	var steps []ShellStep
	in, cont, blocks := false, false, 0
	for _, line := range strings.Split(md, "\n") {
		switch {
		case !in && line == "```sh":
			if n > 0 && blocks == n {
				return steps
			}
			in, blocks = true, blocks+1
		case in && line == "```":
			in = false
		case !in:
		case cont:
			steps[len(steps)-1].Command += "\n" + line
			cont = strings.HasSuffix(line, `\`)
		case strings.HasPrefix(line, "# ") && len(steps) > 0:
			steps[len(steps)-1].Output = append(steps[len(steps)-1].Output, strings.TrimPrefix(line, "# "))
		case strings.TrimSpace(line) != "":
			steps = append(steps, ShellStep{Command: line})
			cont = strings.HasSuffix(line, `\`)
		}
	}
	return steps
}

// StepMarker is the line a script echoes before step i, which
// CheckSteps splits its output at.
func StepMarker(i int) string { return fmt.Sprintf("echo '@@step %d@@'", i) }

var stepLine = regexp.MustCompile(`(?m)^@@step (\d+)@@\n`)

// CheckSteps fails the test unless out, the output of a script that ran
// steps each after its StepMarker, holds for each step lines matching
// those shown under it, in order.
func CheckSteps(tb testing.TB, out string, steps []ShellStep) {
	tb.Helper()
	parts := stepLine.Split(out, -1)[1:]
	if len(parts) != len(steps) {
		tb.Fatalf("got the output of %d steps, want %d:\n%s", len(parts), len(steps), out)
	}
	for i, s := range steps {
		lines := strings.Split(strings.TrimRight(strings.ReplaceAll(parts[i], "\r", ""), "\n"), "\n")
		next := 0
		for _, want := range s.Output {
			re := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(want), `\.\.\.`, ".*") + "$")
			for next < len(lines) && !re.MatchString(lines[next]) {
				next++
			}
			if next == len(lines) {
				tb.Errorf("%s\nprinted\n%s\nwith no line like %q after the ones before it", s.Command, parts[i], want)
				break
			}
			next++
		}
	}
}

// FreeAddr returns a loopback address with a port free at the time.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
