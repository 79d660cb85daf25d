package keyward_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/database"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/service"
	"github.com/keyward/keyward/verify"
)

// TestImportGuide runs docs/import.md as it stands: its legacy table on a
// real PostgreSQL, its export with psql, its import with a keyward built
// from this tree; then the imported keys verify, with their times.
func TestImportGuide(t *testing.T) {
	legacyURL := testenv.PostgresURL(t)
	psql, err := exec.LookPath("psql")
	if err != nil {
		if testenv.Strict() {
			t.Fatal("psql is not on PATH")
		}
		t.Skip("psql is not on PATH")
	}
	bin := buildKeyward(t)
	data, err := os.ReadFile("docs/import.md")
	if err != nil {
		t.Fatal(err)
	}
	guide := string(data)
	blocks := fencedBlocks(guide)
	if len(blocks["sql"]) != 1 || len(blocks["sh"]) != 2 {
		t.Fatalf("the guide has %d sql and %d sh blocks, want 1 and 2", len(blocks["sql"]), len(blocks["sh"]))
	}
	runSQL := func(sql string) {
		t.Helper()
		if out, err := exec.Command(psql, legacyURL, "-v", "ON_ERROR_STOP=1", "-qc", sql).CombinedOutput(); err != nil {
			t.Fatalf("psql: %v\n%s", err, out)
		}
	}
	runSQL(blocks["sql"][0])
	keys := []string{"sk_live_0123456789abcdefghijklmnop", "legacy-9d3f1a2b-4c5d-6e7f-8091", "svc_abcdefghijklmnopqrstuvwxyz"}
	hash := func(k string) string { h := sha256.Sum256([]byte(k)); return hex.EncodeToString(h[:]) }
	runSQL(`INSERT INTO api_keys (owner_email, label, key_sha256, created_at, expires_at, last_used_at) VALUES
		('owner@example.com', 'laptop', '` + hash(keys[0]) + `', '2024-05-01T10:00:00Z', NULL, '2026-10-01T08:00:00Z'),
		('owner@example.com', 'ci', '` + hash(keys[1]) + `', '2025-02-03T04:05:06Z', '2030-01-01T00:00:00Z', NULL),
		(NULL, 'billing service', '` + hash(keys[2]) + `', '2023-12-31T23:59:59Z', NULL, NULL)`)

	dir := t.TempDir()
	db := filepath.Join(dir, "keyward.db")
	env := append(os.Environ(), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"KEYWARD_DATABASE_URL="+db, "LEGACY_DATABASE_URL="+legacyURL)
	run := func(line string) string {
		t.Helper()
		cmd := exec.Command("bash", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, out)
		}
		return string(out)
	}
	run("keyward bootstrap --email owner@example.com --org Acme -o json >/dev/null")
	run(blocks["sh"][0])
	var out string
	for _, line := range strings.Split(blocks["sh"][1], "\n") {
		out += run(line)
	}
	if !strings.Contains(out, "Would import 3 keys") || !strings.Contains(out, "Imported 3 keys; 0 were there already; 0 rows refused.") {
		t.Fatalf("the guide's import said:\n%s", out)
	}

	ctx := context.Background()
	store, err := database.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	svc, err := service.New(store, service.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	for i, k := range keys {
		c, err := svc.Authenticate(ctx, k, ip, "test")
		if err != nil {
			t.Errorf("key %d: %v", i, err)
			continue
		}
		if c.Token.Source != service.SourceImported || (i < 2) != (c.Token.UserID != "") {
			t.Errorf("key %d: source %s, owner %q", i, c.Token.Source, c.Token.UserID)
		}
	}
	if v, err := svc.Judge(ctx, "not-a-key-of-anyone-at-all", ip, "test", service.Need{}); err != nil || v.Code != verify.NotFound {
		t.Errorf("an unknown key: %v, %v", v.Code, err)
	}
}

// fencedBlocks returns the fenced code blocks of a Markdown text, by
// language.
func fencedBlocks(md string) map[string][]string {
	out := map[string][]string{}
	rest := md
	for {
		i := strings.Index(rest, "\n```")
		if i < 0 {
			return out
		}
		rest = rest[i+4:]
		nl := strings.IndexByte(rest, '\n')
		lang := rest[:nl]
		rest = rest[nl+1:]
		j := strings.Index(rest, "\n```")
		out[lang] = append(out[lang], rest[:j])
		rest = rest[j+4:]
	}
}
