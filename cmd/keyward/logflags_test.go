package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// serve's logs: text or JSON lines, from the level asked; a mistake in
// either flag stops serve before it listens.
func TestServeLogFlags(t *testing.T) {
	for _, c := range []struct{ name, flag, value string }{
		{"format", "--log-format", "yaml"},
		{"level", "--log-level", "loud"},
		{"level offset", "--log-level", "info+2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(t.TempDir(), "k.db")}
			r := runCLI(t, env, "", "serve", "--addr", "127.0.0.1:0", c.flag, c.value)
			if r.code != 2 || !strings.Contains(r.stderr, c.flag) || strings.Contains(r.stdout, "listening") {
				t.Fatalf("got exit %d, stdout %q, stderr %q; want exit 2 naming %s, before listening", r.code, r.stdout, r.stderr, c.flag)
			}
		})
	}
	var buf bytes.Buffer
	f := logFlags{format: "json", level: "warn"}
	log, err := f.logger(&buf)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("not shown")
	log.Warn("shown", "n", 1)
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil || line["msg"] != "shown" || line["level"] != "WARN" {
		t.Errorf("json at warn: got %q (%v)", buf.String(), err)
	}
	buf.Reset()
	f = logFlags{format: "text", level: "debug"}
	if log, err = f.logger(&buf); err != nil {
		t.Fatal(err)
	}
	log.Debug("shown")
	if !strings.Contains(buf.String(), "level=DEBUG msg=shown") {
		t.Errorf("text at debug: got %q", buf.String())
	}
}
