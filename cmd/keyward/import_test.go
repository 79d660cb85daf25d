package main

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// admin import, from a file as a person would write it: a dry run and a
// strict run that refuses write nothing, a run imports the good rows and
// reports the bad by line, a second run changes nothing, and the keys
// verify through a running server's /v1/verify and /v1/auth.
func TestAdminImportCommand(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"KEYWARD_DATABASE_URL": filepath.Join(dir, "k.db"), "KEYWARD_CONFIG_DIR": filepath.Join(dir, "config")}
	r := runCLI(t, env, "", "bootstrap", "--email", "ann@example.com", "--org", "Acme", "--jq", ".secret")
	if r.code != 0 {
		t.Fatalf("bootstrap: exit %d, %s", r.code, r.stderr)
	}
	owner := strings.TrimSpace(r.stdout)
	legacy := "sk_live_0123456789abcdefghijklmnopqrstuvwxyz"
	hashed := "hashed-key-0123456789abcdef"
	sum := sha256.Sum256([]byte(hashed))
	csvFile := filepath.Join(dir, "keys.csv")
	content := "org,owner,name,token,sha256,created_at,expires_at\n" +
		"acme,ann@example.com,legacy,\"" + legacy + "\",,2024-01-02,\n" +
		"acme,,hashed,," + hex.EncodeToString(sum[:]) + ",2024-01-02T03:04:05Z,2030-01-01\n" +
		"acme,,bad time,,," + "tomorrow,\n"
	if err := os.WriteFile(csvFile, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tokens := func() int { return countTokens(t, env["KEYWARD_DATABASE_URL"]) }
	before := tokens()

	r = runCLI(t, env, "", "admin", "import", csvFile, "--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "Would import 2 keys; 0 were there already; 1 rows refused.") || !strings.Contains(r.stderr, "line 4: created_at") {
		t.Fatalf("dry run: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, env, "", "admin", "import", csvFile, "--strict")
	if r.code != 1 || !strings.Contains(r.stderr, "--strict: 1 of 3 rows would be refused") {
		t.Fatalf("strict: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if n := tokens(); n != before {
		t.Fatalf("a dry run or a refused strict run wrote tokens: %d, were %d", n, before)
	}
	r = runCLI(t, env, "", "admin", "import", csvFile)
	if r.code != 0 || !strings.Contains(r.stdout, "Imported 2 keys; 0 were there already; 1 rows refused.") {
		t.Fatalf("import: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, legacy) || strings.Contains(r.stdout+r.stderr, hashed) {
		t.Errorf("the import's output holds a key")
	}
	r = runCLI(t, env, "", "admin", "import", csvFile, "--json", "created,unchanged,refused")
	if r.code != 0 || strings.Join(strings.Fields(r.stdout), "") != `{"created":0,"refused":1,"unchanged":2}` {
		t.Fatalf("second import: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}

	url := startServe(t, env)
	env["KEYWARD_URL"], env["KEYWARD_TOKEN"] = url, owner
	r = runCLI(t, env, "", "key", "create", "--name", "rs", "--role", "admin", "--jq", ".secret")
	if r.code != 0 {
		t.Fatalf("key create: %s", r.stderr)
	}
	key := strings.TrimSpace(r.stdout)
	for _, k := range []string{legacy, hashed} {
		body := `{"token":"` + k + `"}`
		req, _ := http.NewRequest("POST", url+"/v1/verify", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if v.Code != "VALID" {
			t.Errorf("/v1/verify of an imported key: %s", v.Code)
		}
		if status, _ := get(t, url+"/v1/auth", k); status != 200 {
			t.Errorf("/v1/auth of an imported key: %d", status)
		}
	}
}

// countTokens counts the rows of the tokens table of the SQLite file.
func countTokens(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
