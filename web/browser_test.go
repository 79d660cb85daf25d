package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/testenv"
	"github.com/keyward/keyward/service"
)

// browser is one headless Chromium with a fresh profile.
type browser struct {
	t   *testing.T
	ctx context.Context
	// shots is the folder screenshots go to.
	shots string
}

// newBrowser starts Debian's Chromium, headless, with a fresh profile and
// nothing that reaches the network on its own.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := testenv.Chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	shots := os.Getenv("KEYWARD_TEST_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, ctx: ctx, shots: shots}
}

// run runs actions, failing the test with what on error.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (%s)", what, err, b.where())
	}
}

// where describes the page the browser is on, for failure messages: its
// path and headings, never its inputs.
func (b *browser) where() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + " | " + Array.from(document.querySelectorAll("h1, .flash")).map(e => e.innerText).join(" | ")`))
	if err != nil {
		return "page unknown: " + err.Error()
	}
	return "on " + s
}

// clickThrough is a step that clicks sel (a submit button or a link) and waits for the
// page that answers the form.
func clickThrough(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		js(`document.body.dataset.stale = "1"`),
		chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitReady(chromedp.CSS("body:not([data-stale])")),
	)
}

// get runs an action that reads a value, failing the test on error.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// readValue is a step that reads the value of the input sel into dst.
func readValue(sel string, dst *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := chromedp.Value(chromedp.CSS(sel))(ctx, t)
		*dst = v
		return err
	})
}

// fullScreenshot is a step that captures the whole page into dst.
func fullScreenshot(dst *[]byte) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		b, err := chromedp.FullScreenshot(100)(ctx, t)
		*dst = b
		return err
	})
}

// emulate is a step that sets the viewport width and colour scheme.
func emulate(width int, dark bool) chromedp.Action[chromedp.Void] {
	scheme := "light"
	if dark {
		scheme = "dark"
	}
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := chromedp.EmulateViewport(int64(width), 800)(ctx, t); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// scriptDisabled is a step that turns the page's JavaScript off or on.
func scriptDisabled(off bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	})
}

// js is a step that runs a script.
func js(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool]("("+expr+", true)")(ctx, t)
		return err
	})
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return get(b, "reading "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// html returns the whole page's HTML.
func (b *browser) html() string {
	b.t.Helper()
	return get(b, "reading the page", chromedp.OuterHTML(chromedp.CSS("html")))
}

// location returns the page's URL.
func (b *browser) location() string {
	b.t.Helper()
	return get(b, "reading the location", chromedp.Location())
}

// count returns how many elements match sel.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return get(b, "counting "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}

// signIn signs in through the form.
func (b *browser) signIn(base, email, password string) {
	b.t.Helper()
	b.run("signing in",
		chromedp.Navigate(base+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		clickThrough("form[action='/signin'] button[type=submit]"),
		chromedp.WaitVisible(chromedp.CSS("main h1")),
	)
}

// screenshot saves the current page at width, in light or dark mode.
func (b *browser) screenshot(name string, width int, dark bool) {
	b.t.Helper()
	var buf []byte
	b.run("screenshot "+name,
		emulate(width, dark),
		chromedp.Reload(),
		chromedp.WaitReady(chromedp.CSS("body")),
		fullScreenshot(&buf),
	)
	// Usable at this width: nothing makes the page scroll sideways.
	if w := get(b, "measuring "+name, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > width {
		b.t.Errorf("%s at %d px: the page is %d px wide", name, width, w)
	}
	file := fmt.Sprintf("%s-%d", name, width)
	if dark {
		file += "-dark"
	}
	if err := os.WriteFile(filepath.Join(b.shots, file+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestBrowser drives the dashboard in a real headless Chromium, one
// person's journey after another on one site.
func TestBrowser(t *testing.T) {
	s := newSite(t, false)
	b := newBrowser(t)

	t.Run("SignIn", func(t *testing.T) {
		b.t = t
		b.run("opening the tokens page", chromedp.Navigate(s.URL+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#email")))
		if loc := b.location(); !strings.Contains(loc, "/signin?next=%2Ftokens") {
			t.Errorf("signed out, /tokens went to %s, want the sign-in page coming back to /tokens", loc)
		}
		b.signIn(s.URL, "owner@example.com", "not the password")
		if got := b.text(".flash-error"); !strings.Contains(got, "Wrong email or password") {
			t.Errorf("wrong password: got %q, want it said", got)
		}
		b.signIn(s.URL, "owner@example.com", ownerPassword)
		if got := b.text("main h1"); got != "Personal access tokens" {
			t.Errorf("after sign-in: got page %q, want the tokens page", got)
		}
		// Only the bootstrap token exists yet.
		if n := b.count("tr[data-token]"); n != 1 {
			t.Errorf("tokens listed: got %d, want 1", n)
		}
	})

	var minted string // the secret read from the reveal
	t.Run("MintRevealReload", func(t *testing.T) {
		b.t = t
		b.run("minting a token",
			chromedp.Navigate(s.URL+"/tokens/new"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), "deploy from CI"),
			chromedp.SendKeys(chromedp.CSS("#description"), "GitHub Actions, main branch"),
			chromedp.Click(chromedp.CSS("input[name=expiry][value='7d']")),
			chromedp.Click(chromedp.CSS("input[name=perm][value='tokens:read']")),
			chromedp.SendKeys(chromedp.CSS("#scopes"), "monitor:* read list"),
			clickThrough("form.form-card button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
			readValue("#secret", &minted),
		)
		if !strings.HasPrefix(minted, "kw_pat_") {
			t.Fatalf("the reveal shows %d characters, want a kw_pat_ token", len(minted))
		}
		if code := s.whoami(minted); code != 200 {
			t.Errorf("the revealed token: GET /v1/whoami answered %d, want 200", code)
		}
		if loc := b.location(); strings.Contains(loc, minted) {
			t.Error("the secret is in the URL")
		}
		// Reload re-sends the one-time form: no second token, no secret.
		b.run("reloading the reveal", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if strings.Contains(b.html(), minted) || strings.Contains(b.html(), "kw_pat_") {
			t.Error("after reload the page still holds a secret")
		}
		if got := b.text("main h1"); got != "This form was already sent" {
			t.Errorf("after reload: got %q, want the already-sent page", got)
		}
		tokens, _, _ := s.svc.FindTokens(context.Background(), s.owner(), service.Personal, keyward.TokenFilter{})
		if len(tokens) != 2 {
			t.Errorf("after mint and reload: %d tokens, want 2", len(tokens))
		}
		// The list shows the new token with its badges; going back to it shows no secret.
		b.run("opening the list", chromedp.Navigate(s.URL+"/tokens"), chromedp.WaitVisible(chromedp.CSS("table.list")))
		if strings.Contains(b.html(), minted) {
			t.Error("the list holds the secret")
		}
		row := b.text("tr[data-token]:first-child")
		for _, want := range []string{"deploy from CI", "active", "Dashboard", "in 7 days"} {
			if !strings.Contains(row, want) {
				t.Errorf("list row %q lacks %q", row, want)
			}
		}
		if n := b.count("tr[data-token] svg.spark polyline"); n != 2 {
			t.Errorf("sparklines: got %d, want one per token", n)
		}
	})

	t.Run("RevealDone", func(t *testing.T) {
		b.t = t
		var secret string
		b.run("minting and confirming the copy",
			chromedp.Navigate(s.URL+"/tokens/new"),
			chromedp.WaitVisible(chromedp.CSS("#name")),
			chromedp.SendKeys(chromedp.CSS("#name"), "laptop"),
			clickThrough("form.form-card button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
			readValue("#secret", &secret),
			chromedp.Click(chromedp.CSS("#copied")),
			clickThrough("form.done button"),
			chromedp.WaitVisible(chromedp.CSS("h1.token-title")),
		)
		if got := b.text("h1.token-title"); !strings.Contains(got, "laptop") {
			t.Errorf("after Done: got %q, want the token's page", got)
		}
		if strings.Contains(b.html(), secret) {
			t.Error("the token page holds the secret")
		}
	})

	t.Run("Filter", func(t *testing.T) {
		b.t = t
		tok, _ := s.mint("old script")
		if _, err := s.svc.RevokeToken(context.Background(), s.owner(), service.Personal, tok.ID, ""); err != nil {
			t.Fatal(err)
		}
		b.run("filtering revoked",
			chromedp.Navigate(s.URL+"/tokens"),
			clickThrough(`nav.filter a[href$="status=revoked"]`),
			chromedp.WaitVisible(chromedp.CSS(`nav.filter a[aria-current="page"][href$="status=revoked"]`)),
		)
		if n := b.count("tr[data-token]"); n != 1 {
			t.Errorf("revoked filter: %d rows, want 1", n)
		}
		if got := b.text("tr[data-token]"); !strings.Contains(got, "old script") || !strings.Contains(got, "revoked") {
			t.Errorf("revoked filter row: %q", got)
		}
		if n := b.count("tr.dim"); n != 1 {
			t.Errorf("revoked row dimmed: %d dim rows, want 1", n)
		}
		b.run("filtering active",
			clickThrough(`nav.filter a[href$="status=active"]`),
			chromedp.WaitVisible(chromedp.CSS(`nav.filter a[aria-current="page"][href$="status=active"]`)),
		)
		if n := b.count("tr[data-token]"); n != 3 {
			t.Errorf("active filter: %d rows, want 3", n)
		}
		if strings.Contains(b.text("table.list"), "old script") {
			t.Error("active filter lists the revoked token")
		}
		b.run("filtering expired", chromedp.Navigate(s.URL+"/tokens?status=expired"), chromedp.WaitVisible(chromedp.CSS(".empty")))
		if got := b.text(".empty h2"); got != "No expired tokens" {
			t.Errorf("empty expired filter: got %q", got)
		}
	})

	t.Run("RevokeThroughDialog", func(t *testing.T) {
		b.t = t
		tok, secret := s.mint("to revoke")
		if code := s.whoami(secret); code != 200 {
			t.Fatalf("before revoke: %d", code)
		}
		b.run("revoking through the dialog",
			chromedp.Navigate(s.URL+"/tokens/"+tok.ID),
			chromedp.Click(chromedp.CSS(`a[data-dialog="revoke-dialog"]`)),
			chromedp.WaitVisible(chromedp.CSS("#revoke-dialog button[type=submit]")),
		)
		if got, want := b.text("#revoke-dialog .last4"), secret[len(secret)-4:]; got != want {
			t.Errorf("the dialog shows last 4 %q, want %q", got, want)
		}
		b.run("confirming",
			chromedp.SendKeys(chromedp.CSS("#revoke-dialog input[name=reason]"), "leaked in a log"),
			clickThrough("#revoke-dialog button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if got := b.text("h1.token-title"); !strings.Contains(got, "revoked") {
			t.Errorf("after revoke the title says %q, want revoked", got)
		}
		if code := s.whoami(secret); code != 401 {
			t.Errorf("the API answers the revoked token with %d, want 401", code)
		}
	})

	t.Run("RevokeWithoutScript", func(t *testing.T) {
		b.t = t
		tok, secret := s.mint("no script")
		b.run("turning script off", scriptDisabled(true))
		defer b.run("turning script on", scriptDisabled(false))
		// Without script the Revoke link opens the confirmation page.
		b.run("revoking on the confirmation page",
			chromedp.Navigate(s.URL+"/tokens/"+tok.ID),
			chromedp.Click(chromedp.CSS(`a[data-dialog="revoke-dialog"]`)),
			chromedp.WaitVisible(chromedp.CSS(`main > section form[action$="/revoke"] button[type=submit]`)),
		)
		if loc := b.location(); !strings.HasSuffix(loc, "/tokens/"+tok.ID+"/revoke") {
			t.Errorf("without script, Revoke went to %s, want the confirmation page", loc)
		}
		if got, want := b.text("main .last4"), secret[len(secret)-4:]; got != want {
			t.Errorf("the confirmation shows last 4 %q, want %q", got, want)
		}
		b.run("confirming",
			chromedp.Click(chromedp.CSS(`main > section form[action$="/revoke"] button[type=submit]`)),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if code := s.whoami(secret); code != 401 {
			t.Errorf("the API answers the revoked token with %d, want 401", code)
		}
		// The copy button needs script; without it, it is not shown.
		b.run("minting without script",
			chromedp.Navigate(s.URL+"/tokens/new"),
			chromedp.SendKeys(chromedp.CSS("#name"), "no script mint"),
			chromedp.Click(chromedp.CSS("form.form-card button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
		)
		if n := b.count("[data-copy]"); n != 1 {
			t.Fatalf("copy buttons: %d", n)
		}
		visible := get(b, "checking the copy button", chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("[data-copy]")).display !== "none"`))
		if visible {
			t.Error("without script the copy button is shown")
		}
	})

	t.Run("Regenerate", func(t *testing.T) {
		b.t = t
		tok, old := s.mint("to regenerate")
		var fresh string
		b.run("regenerating",
			chromedp.Navigate(s.URL+"/tokens/"+tok.ID),
			chromedp.SetValue(chromedp.CSS("#regen-expiry"), "60d"),
			clickThrough(`form[action$="/regenerate"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
			readValue("#secret", &fresh),
		)
		if fresh == old || !strings.HasPrefix(fresh, "kw_pat_") {
			t.Fatal("regenerate showed no new secret")
		}
		if code := s.whoami(old); code != 401 {
			t.Errorf("old secret after regenerate: %d, want 401", code)
		}
		if code := s.whoami(fresh); code != 200 {
			t.Errorf("new secret after regenerate: %d, want 200", code)
		}
		got, _ := s.svc.FindTokenByID(context.Background(), s.owner(), service.Personal, tok.ID)
		if got.ExpiresAt == nil || got.ExpiresAt.Sub(got.CreatedAt) != 60*24*time.Hour {
			t.Errorf("regenerated lifetime: got %v, want 60 days", got.ExpiresAt)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		b.t = t
		tok, old := s.mint("to rotate")
		var fresh string
		b.run("rotating",
			chromedp.Navigate(s.URL+"/tokens/"+tok.ID),
			chromedp.SetValue(chromedp.CSS("#overlap"), "1h"),
			clickThrough(`form[action$="/rotate"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
			readValue("#secret", &fresh),
		)
		if s.whoami(old) != 200 || s.whoami(fresh) != 200 {
			t.Error("within the overlap both the old and the new token must work")
		}
	})

	t.Run("Scopes", func(t *testing.T) {
		b.t = t
		tok, _ := s.mint("scoped")
		addScope := func(typ, id string, ops ...string) {
			actions := []chromedp.Action[chromedp.Void]{
				chromedp.Navigate(s.URL + "/tokens/" + tok.ID),
				chromedp.SendKeys(chromedp.CSS("#entity_type"), typ),
				chromedp.SendKeys(chromedp.CSS("#entity_id"), id),
			}
			for _, op := range ops {
				actions = append(actions, chromedp.Click(chromedp.CSS(`#scopes input[name=op][value="`+op+`"]`)))
			}
			actions = append(actions, clickThrough(`form[action$="/scopes"] button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(".flash")))
			b.run("adding scope "+typ+":"+id, actions...)
		}
		addScope("monitor", "*", "read", "list")
		addScope("dashboard", "42", "update")
		if n := b.count("#scopes tbody tr"); n != 2 {
			t.Fatalf("scopes listed: %d, want 2", n)
		}
		b.run("removing one scope",
			clickThrough(`#scopes tbody tr:first-child form button`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if n := b.count("#scopes tbody tr"); n != 1 {
			t.Errorf("after removing one: %d scopes, want 1", n)
		}
		if got := b.text("#scopes tbody"); !strings.Contains(got, "dashboard") {
			t.Errorf("the wrong scope was removed: left %q", got)
		}
		addScope("monitor", "7", "delete")
		b.run("removing all",
			clickThrough(`form[action$="/scopes/remove"] button`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if n := b.count("#scopes tbody tr"); n != 0 {
			t.Errorf("after remove all: %d scopes, want 0", n)
		}
		got, _ := s.svc.FindTokenByID(context.Background(), s.owner(), service.Personal, tok.ID)
		if len(got.Scopes) != 0 {
			t.Errorf("stored scopes after remove all: %d, want 0", len(got.Scopes))
		}
	})

	var memberSecret string
	t.Run("InviteMemberAndAccept", func(t *testing.T) {
		b.t = t
		var link string
		b.run("inviting a member",
			chromedp.Navigate(s.URL+"/org/members"),
			chromedp.SendKeys(chromedp.CSS("#m-email"), "mia@example.com"),
			chromedp.SendKeys(chromedp.CSS("#m-name"), "Mia Member"),
			clickThrough(`form[action="/org/members"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS("#invite")),
			readValue("#invite", &link),
		)
		if !strings.HasPrefix(link, s.URL+"/invite/") {
			t.Fatalf("the invitation link is not on this server")
		}
		b.run("the pending invitation is listed", chromedp.Navigate(s.URL+"/org/members"), chromedp.WaitVisible(chromedp.CSS(`tr[data-invitation="mia@example.com"]`)))
		// Signed in as the owner, the link cannot be accepted.
		b.run("opening the link as another account", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := b.text("main .card"); !strings.Contains(got, "signed in as owner@example.com") || b.count(`form[action="/invite/accept"]`) != 0 {
			t.Errorf("the link opened as another account: %q", got)
		}
		const pw = "mias own long password"
		b.run("signing out and choosing a password",
			clickThrough(`main form[action="/signout"] button`),
			chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.Navigate(link),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#password"), pw),
			chromedp.SendKeys(chromedp.CSS("#confirm"), pw),
			clickThrough(`form[action="/invite/account"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if got := b.text(".flash-ok"); !strings.Contains(got, "joined as member") {
			t.Errorf("after accepting: %q", got)
		}
		b.run("using the link again", chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if got := b.text("main h1"); !strings.Contains(got, "invalid, used, cancelled or expired") {
			t.Errorf("a used link: got %q", got)
		}
		_, memberSecret, _ = s.svc.AdminCreateToken(context.Background(), "mia@example.com", "acme", service.TokenRequest{Name: "mia's script"})
		if s.whoami(memberSecret) != 200 {
			t.Fatal("the member's token does not work")
		}
		// Back as the owner.
		b.run("signing out", chromedp.Navigate(s.URL+"/tokens"), clickThrough(`form[action="/signout"] button`), chromedp.WaitVisible(chromedp.CSS("#email")))
		b.signIn(s.URL, "owner@example.com", ownerPassword)
		b.run("back to members", chromedp.Navigate(s.URL+"/org/members"), chromedp.WaitVisible(chromedp.CSS("table.members")))
		if n := b.count(`tr[data-invitation="mia@example.com"]`); n != 0 {
			t.Errorf("the accepted invitation is still listed")
		}
	})

	t.Run("RemoveMember", func(t *testing.T) {
		b.t = t
		var id string
		m, err := s.svc.FindMember(context.Background(), s.owner(), "mia@example.com")
		if err != nil {
			t.Fatal(err)
		}
		id = m.UserID
		b.run("opening the remove dialog",
			chromedp.Navigate(s.URL+"/org/members"),
			chromedp.Click(chromedp.CSS(`a[data-dialog="remove-`+id+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#remove-`+id+` button[type=submit]`)),
		)
		if got := b.text(`#remove-` + id + ` .revoke-count`); got != "1 token will be revoked." {
			t.Errorf("the dialog says %q, want \"1 token will be revoked.\"", got)
		}
		b.run("removing", clickThrough(`#remove-`+id+` button[type=submit]`), chromedp.WaitVisible(chromedp.CSS(".flash-ok")))
		if got := b.text(".flash-ok"); !strings.Contains(got, "revoked 1 token") {
			t.Errorf("after removal: %q", got)
		}
		if code := s.whoami(memberSecret); code != 401 {
			t.Errorf("the removed member's token: %d, want 401", code)
		}
		if n := b.count(`tr[data-member="mia@example.com"]`); n != 0 {
			t.Errorf("the removed member is still listed")
		}
	})

	t.Run("SuspendAndRole", func(t *testing.T) {
		b.t = t
		_, secret := mustAddMember(t, s, "sam@example.com")
		b.run("suspending",
			chromedp.Navigate(s.URL+"/org/members"),
			clickThrough(`tr[data-member="sam@example.com"] form[action$="/suspend"] button`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if code := s.whoami(secret); code != 403 {
			t.Errorf("a suspended member's token: %d, want 403", code)
		}
		b.run("changing the role",
			chromedp.SetValue(chromedp.CSS(`tr[data-member="sam@example.com"] select`), "viewer"),
			clickThrough(`tr[data-member="sam@example.com"] form[action$="/role"] button`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		m, _ := s.svc.FindMember(context.Background(), s.owner(), "sam@example.com")
		if m.Role != keyward.RoleViewer || !m.Suspended {
			t.Errorf("member after the forms: role %s suspended %v, want viewer and suspended", m.Role, m.Suspended)
		}
	})

	t.Run("Policy", func(t *testing.T) {
		b.t = t
		b.run("saving a policy",
			chromedp.Navigate(s.URL+"/org/policy"),
			chromedp.SendKeys(chromedp.CSS("#max_lifetime"), "90d"),
			clickThrough(`form[action="/org/policy"] button[type=submit]`),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		p, _ := s.svc.FindPolicy(context.Background(), s.owner())
		if p.MaxLifetime != 90*24*time.Hour {
			t.Errorf("saved max lifetime %v, want 90d", p.MaxLifetime)
		}
		// The new-token form no longer offers "No expiration".
		b.run("opening the form", chromedp.Navigate(s.URL+"/tokens/new"), chromedp.WaitVisible(chromedp.CSS("#name")))
		if n := b.count(`input[name=expiry][value=none]:disabled`); n != 1 {
			t.Errorf("no-expiry choice disabled under a max lifetime: %d, want 1", n)
		}
	})

	t.Run("OrgKeys", func(t *testing.T) {
		b.t = t
		var secret string
		b.run("minting an API key",
			chromedp.Navigate(s.URL+"/org/keys/new"),
			chromedp.SendKeys(chromedp.CSS("#name"), "billing service"),
			chromedp.SetValue(chromedp.CSS("#role"), "viewer"),
			clickThrough("form.form-card button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS("#secret")),
			readValue("#secret", &secret),
		)
		if !strings.HasPrefix(secret, "kw_key_") || s.whoami(secret) != 200 {
			t.Errorf("the API key does not work")
		}
		b.run("listing keys", chromedp.Navigate(s.URL+"/org/keys"), chromedp.WaitVisible(chromedp.CSS("table.list")))
		if got := b.text("table.list"); !strings.Contains(got, "billing service") || !strings.Contains(got, "API key") {
			t.Errorf("keys list: %q", got)
		}
	})

	t.Run("DeleteThroughDialog", func(t *testing.T) {
		b.t = t
		tok, secret := s.mint("to delete")
		b.run("deleting through the dialog",
			chromedp.Navigate(s.URL+"/tokens/"+tok.ID),
			chromedp.Click(chromedp.CSS(`a[data-dialog="delete-dialog"]`)),
			chromedp.WaitVisible(chromedp.CSS("#delete-dialog button[type=submit]")),
			clickThrough("#delete-dialog button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS(".flash-ok")),
		)
		if loc := b.location(); !strings.HasSuffix(loc, "/tokens") {
			t.Errorf("after delete: on %s, want the list", loc)
		}
		if strings.Contains(b.text("main"), "to delete") && !strings.Contains(b.text(".flash-ok"), "to delete") {
			t.Error("the deleted token is still listed")
		}
		if n := b.count(`tr[data-token="` + tok.ID + `"]`); n != 0 {
			t.Error("the deleted token is still listed")
		}
		if code := s.whoami(secret); code != 401 {
			t.Errorf("the API answers the deleted token with %d, want 401", code)
		}
	})

	t.Run("OrgSwitcher", func(t *testing.T) {
		b.t = t
		b.run("one org: no switcher", chromedp.Navigate(s.URL+"/tokens"), chromedp.WaitVisible(chromedp.CSS("main h1")))
		if n := b.count("#org-switch"); n != 0 {
			t.Errorf("a person in one org sees a switcher")
		}
		if _, err := s.svc.AdminCreateOrg(context.Background(), "Globex", "", "owner@example.com"); err != nil {
			t.Fatal(err)
		}
		b.run("two orgs: switching",
			chromedp.Navigate(s.URL+"/tokens"),
			chromedp.WaitVisible(chromedp.CSS("#org-switch")),
			js(`document.body.dataset.stale = "1"`),
			js(`(() => { const s = document.querySelector("#org-switch"); s.value = "globex"; s.dispatchEvent(new Event("change", {bubbles: true})) })()`),
			chromedp.WaitReady(chromedp.CSS("body:not([data-stale])")),
			chromedp.WaitVisible(chromedp.CSS(".empty")),
		)
		if got := b.text(".lead"); !strings.Contains(got, "Globex") {
			t.Errorf("after switching: %q, want Globex's tokens", got)
		}
		if n := b.count("tr[data-token]"); n != 0 {
			t.Errorf("Globex lists %d of Acme's tokens", n)
		}
		b.run("switching back",
			js(`document.body.dataset.stale = "1"`),
			js(`(() => { const s = document.querySelector("#org-switch"); s.value = "acme"; s.dispatchEvent(new Event("change", {bubbles: true})) })()`),
			chromedp.WaitReady(chromedp.CSS("body:not([data-stale])")),
			chromedp.WaitVisible(chromedp.CSS("table.list")),
		)
		if got := b.text(".lead"); !strings.Contains(got, "Acme") {
			t.Errorf("after switching back: %q", got)
		}
	})

	t.Run("Connect", func(t *testing.T) {
		b.t = t
		b.run("opening Connect", chromedp.Navigate(s.URL+"/connect"), chromedp.WaitVisible(chromedp.CSS(".tabs")))
		for _, id := range []string{"claude-code", "claude-desktop", "cursor", "vscode", "windsurf", "codex", "gemini", "curl"} {
			b.run("opening tab "+id, chromedp.Click(chromedp.CSS(`label[for="tab-`+id+`"]`)), chromedp.WaitVisible(chromedp.CSS("#panel-"+id)))
			if got := b.text("#code-" + id); !strings.Contains(got, s.URL) {
				t.Errorf("%s snippet does not name this server: %q", id, got)
			}
		}
	})

	t.Run("CSRFRefused", func(t *testing.T) {
		b.t = t
		b.run("posting without the CSRF token",
			chromedp.Navigate(s.URL+"/tokens/new"),
			chromedp.SendKeys(chromedp.CSS("#name"), "forged"),
			js(`document.querySelector('form.form-card input[name=csrf]').remove()`),
			clickThrough("form.form-card button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS(".eyebrow")),
		)
		if got := b.text(".eyebrow"); !strings.EqualFold(got, "Error 403") {
			t.Errorf("a form without its CSRF token: got %q, want Error 403", got)
		}
		tokens, _, _ := s.svc.FindTokens(context.Background(), s.owner(), service.Personal, keyward.TokenFilter{})
		for _, tok := range tokens {
			if tok.Name == "forged" {
				t.Error("the form without a CSRF token minted a token")
			}
		}
	})

	t.Run("Audit", func(t *testing.T) {
		b.t = t
		b.run("opening the audit log", chromedp.Navigate(s.URL+"/org/audit?"), chromedp.WaitVisible(chromedp.CSS("table.audit")))
		page := b.text("table.audit")
		for _, a := range []string{"token.created", "token.revoked", "token.deleted", "token.regenerated", "token.rotated", "token.scope_added", "token.scope_removed", "member.added", "member.removed", "member.suspended", "member.role_changed", "policy.changed"} {
			if !strings.Contains(page, a) {
				t.Errorf("the audit log lacks %s", a)
			}
		}
		if !strings.Contains(page, "owner@example.com") {
			t.Error("the audit log does not name the owner as actor")
		}
		b.run("filtering by action",
			chromedp.SetValue(chromedp.CSS("#f-action"), "token.revoked"),
			clickThrough(".filters button[type=submit]"),
			chromedp.WaitVisible(chromedp.CSS(`#f-action`)),
		)
		if n, all := b.count(`tr[data-action="token.revoked"]`), b.count(`tr[data-action]`); n == 0 || n != all {
			t.Errorf("filtered by token.revoked: %d of %d rows match", n, all)
		}
		if strings.Contains(b.html(), "kw_pat_") && strings.Contains(b.html(), memberSecret) {
			t.Error("the audit page holds a secret")
		}
	})

	t.Run("Screenshots", func(t *testing.T) {
		b.t = t
		tok, _ := s.mint("screenshot token")
		m, err := s.svc.FindMember(context.Background(), s.owner(), "sam@example.com")
		if err != nil {
			t.Fatal(err)
		}
		samID := m.UserID
		inv, err := s.svc.AddMember(context.Background(), s.owner(), service.MemberRequest{Email: "newbie@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		link, err := s.svc.AdminPasswordLink(context.Background(), "owner@example.com")
		if err != nil {
			t.Fatal(err)
		}
		pages := []struct{ name, path string }{
			{"tokens", "/tokens"},
			{"tokens-revoked", "/tokens?status=revoked"},
			{"token-new", "/tokens/new"},
			{"token-detail", "/tokens/" + tok.ID},
			{"token-revoke", "/tokens/" + tok.ID + "/revoke"},
			{"connect", "/connect"},
			{"keys", "/org/keys"},
			{"keys-new", "/org/keys/new"},
			{"members", "/org/members"},
			{"policy", "/org/policy"},
			{"audit", "/org/audit"},
			{"member-remove", "/org/members/" + samID + "/remove"},
			{"not-found", "/no/such/page"},
			{"set-password", "/set-password/" + link},
			{"invite", "/invite/" + inv.Token},
		}
		for _, p := range pages {
			b.run("opening "+p.path, chromedp.Navigate(s.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main")))
			for _, w := range []int{1280, 375} {
				b.screenshot(p.name, w, false)
			}
		}
		b.run("opening /tokens", chromedp.Navigate(s.URL+"/tokens"))
		b.screenshot("tokens", 1280, true)
		// The reveal is a POST's answer: shot as it is, without reload.
		for _, w := range []int{1280, 375} {
			var buf []byte
			b.run("reveal",
				emulate(w, false),
				chromedp.Navigate(s.URL+"/tokens/new"),
				chromedp.SendKeys(chromedp.CSS("#name"), "reveal screenshot"),
				clickThrough("form.form-card button[type=submit]"),
				chromedp.WaitVisible(chromedp.CSS("#secret")),
				fullScreenshot(&buf),
			)
			if err := os.WriteFile(filepath.Join(b.shots, fmt.Sprintf("reveal-%d.png", w)), buf, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// Signed out: the sign-in page.
		b.run("signing out",
			chromedp.Navigate(s.URL+"/tokens"),
			clickThrough(`form[action="/signout"] button`),
			chromedp.WaitVisible(chromedp.CSS("#email")),
		)
		for _, w := range []int{1280, 375} {
			b.screenshot("signin", w, false)
		}
		b.screenshot("signin", 375, true)
		entries, _ := os.ReadDir(b.shots)
		if len(entries) < 2*len(pages)+4 {
			t.Errorf("saved %d screenshots, want at least %d", len(entries), 2*len(pages)+4)
		}
		t.Logf("screenshots in %s", b.shots)
	})

	t.Run("SignedOut", func(t *testing.T) {
		b.t = t
		b.run("opening tokens signed out", chromedp.Navigate(s.URL+"/tokens"), chromedp.WaitVisible(chromedp.CSS("#email")))
		if loc := b.location(); !strings.Contains(loc, "/signin") {
			t.Errorf("after sign-out /tokens went to %s, want sign-in", loc)
		}
	})
}

// mustAddMember invites a member and accepts as a new account with a
// password, then mints them a token; it returns the member's user id and
// the token's secret.
func mustAddMember(t *testing.T, s *site, email string) (string, string) {
	t.Helper()
	inv, err := s.svc.AddMember(context.Background(), s.owner(), service.MemberRequest{Email: email, Role: keyward.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.svc.AcceptInvitationNewAccount(context.Background(), inv.Token, "", "a password for "+email, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.svc.AdminCreateToken(context.Background(), email, "acme", service.TokenRequest{Name: "script"})
	if err != nil {
		t.Fatal(err)
	}
	return m.UserID, secret
}
