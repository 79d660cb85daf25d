package oauth_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/keyward/keyward/internal/testenv"
)

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// chromium returns a headless Chromium context, or skips the test without
// one (fails with KEYWARD_TEST_BROWSER=1 or KEYWARD_TEST_STRICT=1).
func chromium(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := "no browser at " + chromiumPath + ": install Debian's chromium package to run the browser tests"
		if os.Getenv("KEYWARD_TEST_BROWSER") == "1" {
			t.Fatal(msg + " (and KEYWARD_TEST_BROWSER=1 forbids skipping)")
		}
		testenv.SkipOrFail(t, msg)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath), chromedp.NoSandbox, chromedp.DisableGPU)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first Run starts the browser, which lives as long as ctx: limit
	// each later step instead.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// In a real browser: sign in, allow on the consent page, and land on the
// client's redirect URI with a code (the page's form-action lets the
// redirect through); and a page of another site cannot frame the consent
// page.
func TestBrowserConsent(t *testing.T) {
	ctx := chromium(t)
	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/callback" {
			select {
			case got <- r.URL.Query():
			default:
			}
		}
		fmt.Fprint(w, "<!doctype html><title>done</title>")
	}))
	t.Cleanup(cb.Close)
	redirect := cb.URL + "/callback"

	e := newEnv(t)
	client := e.register("Browser app", redirect)
	p := newPKCE()
	q := e.authzQuery(client, p, func(v url.Values) { v.Set("redirect_uri", redirect) })
	authorize := e.srv.URL + "/oauth/authorize?" + q.Encode()

	step, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := chromedp.Do(step,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), "owner@example.com"),
		chromedp.SendKeys(chromedp.CSS("#password"), ownerPassword),
		chromedp.Click(chromedp.CSS("#signin")),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
	)
	if err != nil {
		t.Fatalf("sign in and reach the consent page: %v", err)
	}
	title, err := chromedp.Run(step, chromedp.Title())
	if err != nil || title != "Allow Browser app to use keyward?" {
		t.Errorf("consent page title: got %q (%v)", title, err)
	}

	// Another site frames the consent page, and, to show that framing
	// works at all, a page that allows it.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>evil</title><iframe src="%s"></iframe><iframe src="%s"></iframe>`,
			html.EscapeString(authorize), html.EscapeString(cb.URL+"/framable"))
	}))
	t.Cleanup(evil.Close)
	if err := chromedp.Do(step, chromedp.Navigate(evil.URL)); err != nil {
		t.Fatalf("the framing page: %v", err)
	}
	frames := map[string]*cdp.Frame{} // by the URL asked for
	for deadline := time.Now().Add(15 * time.Second); len(frames) < 2 && time.Now().Before(deadline); {
		tree, err := chromedp.Run(step, func(ctx context.Context, tg *chromedp.Target) (*cdppage.FrameTree, error) {
			res, err := cdp.Call(ctx, tg, cdppage.GetFrameTree, cdp.Empty{})
			return res.FrameTree, err
		})
		if err != nil {
			t.Fatalf("frame tree: %v", err)
		}
		clear(frames)
		for _, c := range tree.ChildFrames {
			switch {
			case c.Frame.UnreachableURL != "":
				frames[c.Frame.UnreachableURL] = c.Frame
			case strings.HasPrefix(c.Frame.URL, "http"):
				frames[c.Frame.URL] = c.Frame
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if f := frames[cb.URL+"/framable"]; f == nil || f.URL != cb.URL+"/framable" {
		t.Errorf("the control frame did not load: got %v", frames)
	}
	if f := frames[authorize]; f == nil || !strings.HasPrefix(f.URL, "chrome-error://") {
		t.Errorf("the framed consent page: got frame %+v, want Chromium to refuse it (chrome-error://)", f)
	}

	// Back to the consent page, and allow.
	err = chromedp.Do(step,
		chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS(`button[value="allow"]`)),
		chromedp.Click(chromedp.CSS(`button[value="allow"]`)),
	)
	if err != nil {
		t.Fatalf("allow: %v", err)
	}
	select {
	case v := <-got:
		if v.Get("code") == "" || v.Get("state") != "st-42" || v.Get("iss") != e.srv.URL {
			t.Fatalf("the browser reached the redirect URI with code %t, state %q, iss %q; want a code, st-42, %s", v.Get("code") != "", v.Get("state"), v.Get("iss"), e.srv.URL)
		}
		form := e.tokenForm(client, v.Get("code"), p)
		form.Set("redirect_uri", redirect)
		if status, body := e.exchange(form); status != http.StatusOK {
			t.Errorf("exchange of the browser's code: got %d %v, want 200", status, body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the browser did not reach the client's redirect URI after Allow")
	}
}
