package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyward/keyward/client"
)

// The end-to-end tests build the real binary, run 'keyward serve' as a
// process of its own, and drive it with the CLI binary: what an operator
// and a user would do, including killing the server with SIGKILL right
// after an acknowledged write.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildOut  []byte
)

// keywardBinary builds ./cmd/keyward once per test run.
func keywardBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "keyward-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "keyward")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("building keyward: %v\n%s", buildErr, buildOut)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// harness is one installation under test: a database, a server process
// and the environment of the CLI processes.
type harness struct {
	t     *testing.T
	bin   string
	dir   string
	dbURL string
	url   string
	// serveArgs are added to serve's arguments.
	serveArgs []string

	server *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newHarness(t *testing.T, dbURL string) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
	h := &harness{t: t, bin: keywardBinary(t), dir: t.TempDir(), dbURL: dbURL, logs: &syncBuffer{}}
	t.Cleanup(func() {
		h.kill()
		if t.Failed() {
			t.Logf("server output:\n%s", h.logs.String())
		}
	})
	return h
}

// env is the whole environment of a keyward process: nothing of the
// developer's own KEYWARD_* variables or stored login leaks in.
func (h *harness) env(extra ...string) []string {
	return append([]string{
		"HOME=" + h.dir,
		"PATH=" + os.Getenv("PATH"),
		"KEYWARD_CONFIG_DIR=" + filepath.Join(h.dir, "config"),
	}, extra...)
}

var listenLine = regexp.MustCompile(`keyward listening on (http://\S+)`)

// start runs 'keyward serve' on a free port and waits until /healthz
// answers.
func (h *harness) start() {
	t := h.t
	t.Helper()
	cmd := exec.Command(h.bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--database-url", h.dbURL}, h.serveArgs...)...)
	cmd.Env = h.env()
	cmd.Stderr = h.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting keyward serve: %v", err)
	}
	h.server, h.exited = cmd, make(chan error, 1)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			h.logs.Write([]byte(sc.Text() + "\n"))
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		h.exited <- cmd.Wait()
	}()
	select {
	case h.url = <-urls:
	case err := <-h.exited:
		h.exited <- err
		t.Fatalf("keyward serve exited at start: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("keyward serve did not say where it listens within 20s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(h.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("keyward serve at %s not healthy within 10s: %v", h.url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the server at once with SIGKILL, as a crash would.
func (h *harness) kill() {
	if h.server == nil {
		return
	}
	_ = h.server.Process.Signal(syscall.SIGKILL)
	select {
	case <-h.exited:
	case <-time.After(10 * time.Second):
		h.t.Errorf("keyward serve did not die on SIGKILL")
	}
	h.server = nil
}

// stop ends the server with SIGTERM and checks that it shuts down cleanly.
func (h *harness) stop() {
	t := h.t
	t.Helper()
	if err := h.server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.exited:
		if err != nil {
			t.Errorf("keyward serve after SIGTERM: got %v, want a clean exit", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("keyward serve did not stop within 20s of SIGTERM")
	}
	h.server = nil
}

// keyward runs the CLI binary as token against the server, with a
// deadline.
// acceptAsNewAccount opens an invitation link in the dashboard, as a
// browser would, and accepts it by choosing a password.
func acceptAsNewAccount(t *testing.T, link, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || csrf == nil {
		t.Fatalf("the invitation page: %d, csrf found %v", resp.StatusCode, csrf != nil)
	}
	base, token, _ := strings.Cut(link, "/invite/")
	resp, err = c.PostForm(base+"/invite/account", url.Values{"csrf": {string(csrf[1])}, "token": {token}, "password": {password}, "confirm": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("accepting the invitation: %d", resp.StatusCode)
	}
}

func (h *harness) keyward(token string, args ...string) result {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, h.bin, args...)
	env := []string{"KEYWARD_URL=" + h.url}
	if token != "" {
		env = append(env, "KEYWARD_TOKEN="+token)
	}
	cmd.Env = h.env(env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		h.t.Fatalf("running keyward %v: %v", args, err)
	}
	return r
}

// ok runs the CLI and fails the test unless it succeeds.
func (h *harness) ok(token string, args ...string) string {
	h.t.Helper()
	r := h.keyward(token, args...)
	if r.code != 0 {
		h.t.Fatalf("keyward %s: exit %d\nstderr: %s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r.stdout
}

// okJSON runs the CLI with -o json and decodes its output into v.
func (h *harness) okJSON(v any, token string, args ...string) {
	h.t.Helper()
	out := h.ok(token, append([]string{"-o", "json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		h.t.Fatalf("keyward %s: decoding %q: %v", strings.Join(args, " "), out, err)
	}
}

// fails runs the CLI and checks that it fails with stderr holding want.
func (h *harness) fails(want, token string, args ...string) {
	h.t.Helper()
	r := h.keyward(token, args...)
	if r.code == 0 || !strings.Contains(r.stderr, want) {
		h.t.Fatalf("keyward %s: got exit %d, stderr %q; want a failure saying %q", strings.Join(args, " "), r.code, r.stderr, want)
	}
}

func TestEndToEndSQLite(t *testing.T) {
	dir := t.TempDir()
	h := newHarness(t, filepath.Join(dir, "k.db"))
	testEndToEnd(t, h)

	// An online backup of the live database opens and migrates.
	backup := filepath.Join(dir, "backup.db")
	h.ok("", "backup", backup, "--database-url", h.dbURL)
	h.ok("", "migrate", "--database-url", backup)
	if fi, err := os.Stat(backup); err != nil || fi.Size() == 0 {
		t.Errorf("backup: %v", err)
	}
	// The server's database, its WAL and the backup are the owner's alone.
	for _, name := range []string{"k.db", "k.db-wal", "k.db-shm", "backup.db"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v", name, err)
		} else if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", name, fi.Mode().Perm())
		}
	}
	h.stop()
}

func TestEndToEndPostgres(t *testing.T) {
	h := newHarness(t, postgresURL(t))
	testEndToEnd(t, h)
	h.fails("pg_dump", "", "backup", filepath.Join(t.TempDir(), "b.db"), "--database-url", h.dbURL)
	h.stop()
}

// testEndToEnd drives one installation through a token's whole life.
func testEndToEnd(t *testing.T, h *harness) {
	started := time.Now()
	h.ok("", "migrate", "--database-url", h.dbURL)
	h.start()

	// Bootstrap, as a process of its own beside the running server.
	var boot struct {
		User     client.User  `json:"user"`
		Org      client.Org   `json:"org"`
		Token    client.Token `json:"token"`
		Secret   string       `json:"secret"`
		Password string       `json:"password"`
	}
	h.okJSON(&boot, "", "bootstrap", "--database-url", h.dbURL, "--email", "owner@example.com", "--org", "Acme Inc", "--name", "Olive Owner")
	if !strings.HasPrefix(boot.Secret, "kw_pat_") || boot.Password == "" || boot.Org.Slug != "acme-inc" || boot.Token.Status != "active" {
		t.Fatalf("bootstrap: got %+v", boot)
	}
	h.fails("already bootstrapped", "", "bootstrap", "--database-url", h.dbURL, "--email", "x@example.com", "--org", "Other")
	owner := boot.Secret

	var who client.Whoami
	h.okJSON(&who, owner, "whoami")
	if who.User == nil || who.User.Email != "owner@example.com" || str(who.Role) != "owner" || who.Org.ID != boot.Org.ID {
		t.Fatalf("whoami: got %+v", who)
	}

	// Login stores the token; API commands then need no flags.
	r := h.keywardStdin(owner+"\n", "", "login", "--with-token", "--url", h.url)
	if r.code != 0 {
		t.Fatalf("login: exit %d, %s", r.code, r.stderr)
	}

	// Mint, list, show, rename.
	var ci client.TokenSecret
	h.okJSON(&ci, owner, "token", "create", "--name", "ci", "--expires-in", "30d", "--scope", "monitor:*:read,list")
	if !strings.HasPrefix(ci.Secret, "kw_pat_") || ci.Token.Source != "cli" || len(ci.Token.Scopes) != 1 || ci.Token.ExpiresAt == nil {
		t.Fatalf("token create: got %+v", ci)
	}
	h.okJSON(&who, ci.Secret, "whoami")
	var list client.TokenList
	h.okJSON(&list, owner, "token", "list")
	if len(list.Tokens) != 2 || list.Tokens[0].ID != ci.Token.ID {
		t.Fatalf("token list: got %+v, want ci and the bootstrap token, newest first", list.Tokens)
	}
	if out := h.ok(owner, "token", "list"); strings.Contains(out, ci.Secret) || !strings.Contains(out, ci.Token.Display) {
		t.Fatalf("token list table: got %q, want the display form and never the secret", out)
	}
	var tok client.Token
	h.okJSON(&tok, owner, "token", "update", ci.Token.ID, "--name", "ci-main", "--description", "main pipeline")
	if tok.Name != "ci-main" || tok.Description != "main pipeline" {
		t.Fatalf("token update: got %+v", tok)
	}

	// Scopes: add, remove one, clear.
	h.okJSON(&tok, owner, "token", "scopes", "add", ci.Token.ID, "project:p-1:read,update")
	if len(tok.Scopes) != 2 {
		t.Fatalf("scopes add: got %+v", tok.Scopes)
	}
	h.okJSON(&tok, owner, "token", "scopes", "remove", ci.Token.ID, tok.Scopes[0].ID)
	if len(tok.Scopes) != 1 || tok.Scopes[0].EntityType != "project" {
		t.Fatalf("scopes remove: got %+v", tok.Scopes)
	}
	h.okJSON(&tok, owner, "token", "scopes", "clear", ci.Token.ID)
	if len(tok.Scopes) != 0 {
		t.Fatalf("scopes clear: got %+v", tok.Scopes)
	}

	// Regenerate: same id, new secret; the old one dies at once.
	var regen client.TokenSecret
	h.okJSON(&regen, owner, "token", "regenerate", ci.Token.ID, "--expires-in", "60d")
	if regen.Token.ID != ci.Token.ID || regen.Secret == ci.Secret || regen.Token.Generation != 1 {
		t.Fatalf("regenerate: got %+v", regen.Token)
	}
	h.fails("(unauthorized)", ci.Secret, "whoami")
	h.ok(regen.Secret, "whoami")

	// Rotate with an overlap: both work for now.
	var rot client.TokenSecret
	h.okJSON(&rot, owner, "token", "rotate", ci.Token.ID, "--overlap", "1h")
	if rot.Token.ID == ci.Token.ID || rot.Token.Name != "ci-main" {
		t.Fatalf("rotate: got %+v", rot.Token)
	}
	h.ok(rot.Secret, "whoami")
	h.ok(regen.Secret, "whoami")

	// Revoke and delete.
	var tmp client.TokenSecret
	h.okJSON(&tmp, owner, "token", "create", "--name", "temp")
	h.okJSON(&tok, owner, "token", "revoke", tmp.Token.ID, "--reason", "done")
	if tok.Status != "revoked" {
		t.Fatalf("revoke: got status %q", tok.Status)
	}
	h.fails("(unauthorized)", tmp.Secret, "whoami")
	h.okJSON(&list, owner, "token", "list", "--status", "revoked")
	if len(list.Tokens) != 1 || list.Tokens[0].ID != tmp.Token.ID {
		t.Fatalf("revoked list: got %+v", list.Tokens)
	}
	h.ok(owner, "token", "delete", tmp.Token.ID)
	h.fails("(not_found)", owner, "token", "show", tmp.Token.ID)

	// Org keys.
	var key client.TokenSecret
	h.okJSON(&key, owner, "key", "create", "--name", "uptime probe", "--kind", "probe", "--expires-in", "7d")
	if !strings.HasPrefix(key.Secret, "kw_prb_") || key.Token.Kind != "probe" {
		t.Fatalf("key create: got %+v", key.Token)
	}
	var keys client.KeyList
	h.okJSON(&keys, owner, "key", "list", "--org", boot.Org.Slug)
	if len(keys.Keys) != 1 || keys.Keys[0].ID != key.Token.ID {
		t.Fatalf("key list: got %+v", keys)
	}

	// Members: invite, accept from the dashboard, change role, remove
	// (revoking their tokens).
	var inv client.Invite
	h.okJSON(&inv, owner, "member", "add", "bob@example.com", "--name", "Bob", "--role", "member")
	if inv.Invitation.Role != "member" || inv.Invitation.Email != "bob@example.com" || inv.Invitation.State != "pending" {
		t.Fatalf("member add: got %+v", inv)
	}
	var invs client.InvitationList
	h.okJSON(&invs, owner, "member", "invitations")
	if len(invs.Invitations) != 1 || invs.Invitations[0].ID != inv.Invitation.ID {
		t.Fatalf("member invitations: got %+v", invs)
	}
	acceptAsNewAccount(t, inv.InviteURL, "bob's own long password")
	var m client.Member
	var bobTok client.TokenSecret
	h.okJSON(&bobTok, "", "admin", "token", "create", "--database-url", h.dbURL, "--user", "bob@example.com", "--org", "acme-inc", "--name", "bob-cli")
	h.okJSON(&who, bobTok.Secret, "whoami")
	if str(who.Role) != "member" {
		t.Fatalf("bob whoami: got role %q", str(who.Role))
	}
	h.fails("(forbidden)", bobTok.Secret, "key", "list")
	h.okJSON(&m, owner, "member", "role", "bob@example.com", "admin")
	if m.Role != "admin" {
		t.Fatalf("member role: got %+v", m)
	}
	h.ok(bobTok.Secret, "key", "list") // the new role bites on the very next request
	var members client.MemberList
	h.okJSON(&members, owner, "member", "list")
	if len(members.Members) != 2 {
		t.Fatalf("member list: got %+v", members)
	}
	var removed client.MemberRemoved
	h.okJSON(&removed, owner, "member", "remove", "bob@example.com")
	if len(removed.RevokedTokens) != 1 || removed.RevokedTokens[0] != bobTok.Token.ID {
		t.Fatalf("member remove: got %+v", removed)
	}
	h.fails("(unauthorized)", bobTok.Secret, "whoami")

	// Policy: tokens that break it are blocked, not revoked, and come back
	// when it is lifted.
	var policyTok client.TokenSecret
	h.okJSON(&policyTok, owner, "token", "create", "--name", "policy", "--expires-in", "30d")
	var pol client.Policy
	h.okJSON(&pol, policyTok.Secret, "policy", "set", "--max-lifetime", "365d")
	if str(pol.MaxLifetime) != "365d" {
		t.Fatalf("policy set: got %+v", pol)
	}
	h.fails("(forbidden)", owner, "whoami") // the bootstrap token never expires
	h.okJSON(&pol, policyTok.Secret, "policy", "get")
	if str(pol.MaxLifetime) != "365d" {
		t.Fatalf("policy get: got %+v", pol)
	}
	h.ok(policyTok.Secret, "policy", "set", "--max-lifetime", "none")
	h.ok(owner, "whoami")

	// The audit log saw it all, and never a secret.
	var events client.AuditList
	h.okJSON(&events, owner, "audit", "list", "--limit", "200")
	seen := map[string]bool{}
	for _, e := range events.Events {
		seen[e.Action] = true
	}
	for _, want := range []string{"token.created", "token.regenerated", "token.rotated", "token.revoked", "token.deleted",
		"token.scope_added", "token.scope_removed", "member.role_changed", "member.removed", "policy.changed"} {
		if !seen[want] {
			t.Errorf("audit list: no %s event", want)
		}
	}
	export := h.ok(owner, "audit", "export", "--action", "token.created")
	lines := strings.Split(strings.TrimSpace(export), "\n")
	if len(lines) < 5 {
		t.Errorf("audit export: got %d lines, want every token.created", len(lines))
	}
	all := h.ok(owner, "-o", "json", "audit", "list", "--limit", "200")
	for _, secret := range []string{owner, ci.Secret, regen.Secret, rot.Secret, tmp.Secret, key.Secret, bobTok.Secret, policyTok.Secret} {
		if strings.Contains(export, secret) || strings.Contains(all, secret) {
			t.Fatal("the audit log holds a secret")
		}
	}
	if strings.Contains(h.logs.String(), owner) {
		t.Fatal("the server logged a token")
	}

	// An acknowledged mint survives SIGKILL right after it.
	var durable client.TokenSecret
	h.okJSON(&durable, owner, "token", "create", "--name", "durable")
	h.kill()
	h.start()
	h.okJSON(&who, durable.Secret, "whoami")
	if who.Token == nil || who.Token.ID != durable.Token.ID {
		t.Fatalf("whoami after restart: got %+v", who.Token)
	}
	// An acknowledged revoke survives SIGKILL right after it.
	h.ok(owner, "token", "revoke", durable.Token.ID)
	h.kill()
	h.start()
	h.fails("(unauthorized)", durable.Secret, "whoami")
	h.ok(owner, "whoami")

	h.ok("", "logout")
	t.Logf("end-to-end run took %v", time.Since(started).Round(time.Millisecond))
}

// keywardStdin runs the CLI binary with stdin.
func (h *harness) keywardStdin(stdin, token string, args ...string) result {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	env := []string{"KEYWARD_URL=" + h.url}
	if token != "" {
		env = append(env, "KEYWARD_TOKEN="+token)
	}
	cmd.Env = h.env(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	}
	return r
}
