package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// traefikConfig is the dynamic configuration the README points to, run
// as it is: its addresses come from the environment.
var traefikConfig = filepath.Join("..", "docs", "proxies", "traefik.yml")

// TestTraefikForwardAuth puts a real traefik, configured by
// docs/proxies/traefik.yml, in front of an upstream that echoes the
// X-Keyward-* headers it receives, with forwardAuth to keyward's
// /v1/auth. It runs only with KEYWARD_TEST_TRAEFIK=1 and a traefik on
// PATH: Traefik is not in Debian, and CI has none.
func TestTraefikForwardAuth(t *testing.T) {
	testenv.TraefikPath(t)
	e := newPolicyEnv(t, "127.0.0.0/8")
	up := newEchoUpstream(t)
	base := testenv.Traefik(t, traefikConfig, map[string]string{
		"KEYWARD_AUTH_URL":     e.srv.URL + "/v1/auth",
		"KEYWARD_UPSTREAM_URL": up.URL,
	})
	testProxy(t, e, up, base, proxyQuirks{underscoresPass: true})
}

// TestTraefikConfig checks, without Traefik, what can be checked of
// docs/proxies/traefik.yml: the router strips the client's X-Keyward-*
// headers, every one keyward may send, before it asks keyward, whose
// identity headers forwardAuth copies; the addresses come from the
// environment.
func TestTraefikConfig(t *testing.T) {
	data, err := os.ReadFile(traefikConfig)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		HTTP struct {
			Routers map[string]struct {
				EntryPoints []string `yaml:"entryPoints"`
				Middlewares []string `yaml:"middlewares"`
				Service     string   `yaml:"service"`
			} `yaml:"routers"`
			Middlewares map[string]struct {
				Headers *struct {
					CustomRequestHeaders map[string]string `yaml:"customRequestHeaders"`
				} `yaml:"headers"`
				ForwardAuth *struct {
					Address                  string `yaml:"address"`
					TrustForwardHeader       *bool  `yaml:"trustForwardHeader"`
					AuthResponseHeadersRegex string `yaml:"authResponseHeadersRegex"`
				} `yaml:"forwardAuth"`
			} `yaml:"middlewares"`
			Services map[string]struct {
				LoadBalancer struct {
					Servers []struct {
						URL string `yaml:"url"`
					} `yaml:"servers"`
				} `yaml:"loadBalancer"`
			} `yaml:"services"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: %v", traefikConfig, err)
	}
	router, ok := cfg.HTTP.Routers["app"]
	if !ok || len(router.Middlewares) != 2 {
		t.Fatalf("want the router app with two middlewares, got %+v", cfg.HTTP.Routers)
	}
	strip, auth := cfg.HTTP.Middlewares[router.Middlewares[0]], cfg.HTTP.Middlewares[router.Middlewares[1]]
	if strip.Headers == nil || auth.ForwardAuth == nil {
		t.Fatalf("want a headers middleware, then forwardAuth: got %v", router.Middlewares)
	}
	for _, name := range forgeable[:len(forgeable)-1] { // all but the made-up one
		if v, ok := strip.Headers.CustomRequestHeaders[name]; !ok || v != "" {
			t.Errorf("%s does not remove %s", router.Middlewares[0], name)
		}
	}
	for _, name := range []string{"X-Original-Method", "X-Original-Uri"} {
		if v, ok := strip.Headers.CustomRequestHeaders[name]; !ok || v != "" {
			t.Errorf("%s does not remove %s: a client could name the route keyward judges", router.Middlewares[0], name)
		}
	}
	if auth.ForwardAuth.AuthResponseHeadersRegex != "^X-Keyward-" {
		t.Errorf("authResponseHeadersRegex is %q, want ^X-Keyward-", auth.ForwardAuth.AuthResponseHeadersRegex)
	}
	if tf := auth.ForwardAuth.TrustForwardHeader; tf == nil || *tf {
		t.Errorf("forwardAuth's trustForwardHeader is not false: a client could name its own address and URI")
	}
	if a := auth.ForwardAuth.Address; !strings.Contains(a, `env "KEYWARD_AUTH_URL"`) || !strings.Contains(a, "/v1/auth") {
		t.Errorf("forwardAuth's address is %q, want KEYWARD_AUTH_URL defaulting to keyward's /v1/auth", a)
	}
	svc := cfg.HTTP.Services[router.Service].LoadBalancer.Servers
	if len(svc) != 1 || !strings.Contains(svc[0].URL, `env "KEYWARD_UPSTREAM_URL"`) {
		t.Errorf("the app's service is %+v, want KEYWARD_UPSTREAM_URL", svc)
	}
}
