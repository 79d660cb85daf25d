package api_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward/client"
)

// After a whole life (mint, use, verify, forward-auth, revoke, refusals),
// no secret is in the server's log or in /metrics.
func TestNoSecretInLogsOrMetrics(t *testing.T) {
	e := newPolicyEnv(t, "127.0.0.0/8")
	key := e.mintKey(e.owner, client.TokenRequest{Name: "rs", Role: "admin"}).Secret
	agent := e.mintKey(e.owner, client.TokenRequest{Name: "agent", Kind: "agent", AgentID: "a1"}).Secret
	pat := e.mint(e.owner, client.TokenRequest{Name: "life", ExpiresIn: "30d"})
	secrets := []string{e.owner, key, agent, pat.Secret}

	e.as(pat.Secret, "GET", "/v1/whoami", nil).want(t, 200, nil)
	e.verify(key, client.VerifyRequest{Token: pat.Secret, Permission: "monitors:read"})
	e.auth(pat.Secret, "GET", "/monitors/1", header{"X-Forwarded-For", "203.0.113.5"}).want(t, 200, nil)
	e.auth(agent, "POST", "/v1/agent/heartbeat").want(t, 200, nil)
	e.auth(agent, "GET", "/monitors/1").want(t, 403, nil)
	e.auth(pat.Secret, "GET", "/monitors/1?access_token="+pat.Secret).want(t, 400, nil)
	e.do("GET", "/v1/tokens/"+pat.Secret, nil, bearer(e.owner)).want(t, 404, nil)
	e.do("GET", "/v1/whoami?token="+pat.Secret, nil).want(t, 400, nil)
	e.do("GET", "/v1/whoami", nil, header{"Authorization", "Bearer " + pat.Secret + " x"}).want(t, 401, nil)
	var regen client.TokenSecret
	e.as(e.owner, "POST", "/v1/tokens/"+pat.Token.ID+"/regenerate", nil).want(t, 200, &regen)
	secrets = append(secrets, regen.Secret)
	e.verify(key, client.VerifyRequest{Token: pat.Secret}) // the old secret: NOT_FOUND
	e.as(e.owner, "POST", "/v1/tokens/"+pat.Token.ID+"/revoke", nil).want(t, 200, nil)
	e.verify(key, client.VerifyRequest{Token: regen.Secret})
	e.auth(regen.Secret, "GET", "/monitors/1").want(t, 401, nil)
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	metrics := string(e.do("GET", "/metrics", nil).want(t, 200, nil).body)
	logs := e.logs.String()
	if !strings.Contains(logs, "/v1/whoami") || !strings.Contains(metrics, "keyward_verifications_total") {
		t.Fatal("the log or the metrics are empty: nothing was checked")
	}
	for i, s := range secrets {
		// Any 12 characters of the secret's body would be a leak too.
		for _, part := range []string{s, s[7:19], s[len(s)-12:]} {
			if strings.Contains(logs, part) {
				t.Errorf("secret %d (or part of it) is in the server's log", i)
			}
			if strings.Contains(metrics, part) {
				t.Errorf("secret %d (or part of it) is in /metrics", i)
			}
		}
	}
}
