package api_test

import (
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
)

// caddyfile is the Caddyfile the README points to, run as it is: its
// addresses come from the environment.
var caddyfile = filepath.Join("..", "docs", "proxies", "Caddyfile")

// TestCaddyForwardAuth puts a real caddy, configured by
// docs/proxies/Caddyfile, in front of an upstream that echoes the
// X-Keyward-* headers it receives, with forward_auth to keyward's
// /v1/auth. It needs caddy (Debian's caddy package);
// KEYWARD_TEST_CADDY=1 makes its absence a failure.
func TestCaddyForwardAuth(t *testing.T) {
	testenv.CaddyPath(t)
	e := newPolicyEnv(t, "127.0.0.0/8")
	up := newEchoUpstream(t)
	base := testenv.Caddy(t, caddyfile, "KEYWARD_SITE", map[string]string{
		"KEYWARD_AUTH":     hostPort(t, e.srv.URL),
		"KEYWARD_UPSTREAM": hostPort(t, up.URL),
	})
	testProxy(t, e, up, base, proxyQuirks{})
}
