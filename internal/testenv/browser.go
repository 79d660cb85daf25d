package testenv

import (
	"os"
	"testing"
)

// BrowserVar set to 1 makes a missing browser a failure for the tests
// that drive a real one (CI sets it).
const BrowserVar = "KEYWARD_TEST_BROWSER"

// ChromiumPath is where Debian's chromium package installs the browser.
const ChromiumPath = "/usr/bin/chromium"

// Chromium returns the path of the headless Chromium that browser tests
// drive. Without one the test is skipped, or fails when
// KEYWARD_TEST_BROWSER=1 or KEYWARD_TEST_STRICT=1. Nothing is downloaded.
func Chromium(tb testing.TB) string {
	tb.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		msg := "no browser at " + ChromiumPath + ": install Debian's chromium package to run the dashboard's browser tests"
		if os.Getenv(BrowserVar) == "1" {
			tb.Fatalf("%s (and %s=1 forbids skipping)", msg, BrowserVar)
		}
		SkipOrFail(tb, msg)
	}
	return ChromiumPath
}
