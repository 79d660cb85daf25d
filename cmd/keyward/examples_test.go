package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command has an Examples section, and every example line that runs
// keyward names that very command with flags it has.
func TestEveryCommandHasExamples(t *testing.T) {
	a := &app{env: env{getenv: func(string) string { return "" }}}
	root := a.rootCmd()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, s := range c.Commands() {
			walk(s)
		}
		if !c.Runnable() || c.Name() == "help" {
			return
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no examples", c.CommandPath())
			return
		}
		for _, line := range strings.Split(c.Example, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "keyward ") {
				continue // in a pipe, a redirection or $(...)
			}
			words := shellWords(line)
			found, rest, err := root.Find(words[1:])
			if err != nil || found != c {
				t.Errorf("%s: the example %q runs %v (%v)", c.CommandPath(), line, found.CommandPath(), err)
				continue
			}
			found.InitDefaultHelpFlag()
			if err := found.ParseFlags(rest); err != nil {
				t.Errorf("%s: the example %q: %v", c.CommandPath(), line, err)
			}
		}
	}
	walk(root)
}

// shellWords splits an example line as a shell would, well enough for
// examples: quotes group, and a pipe or redirection ends the command.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	quote, in := rune(0), false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '|' || r == '>' || r == '<':
			return words
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// keyward man writes a page for every command, each with its examples.
func TestManPages(t *testing.T) {
	dir := t.TempDir()
	if r := runCLI(t, nil, "", "man", dir); r.code != 0 {
		t.Fatalf("keyward man: exit %d, %q", r.code, r.stderr)
	}
	for _, page := range []string{"keyward.1", "keyward-token-create.1", "keyward-key-rotate.1", "keyward-serve.1", "keyward-completion-zsh.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if page != "keyward.1" && !strings.Contains(string(b), ".SH EXAMPLE") {
			t.Errorf("%s has no EXAMPLE section", page)
		}
	}
}
