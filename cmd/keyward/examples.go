package main

import (
	"strings"

	"github.com/spf13/cobra"
)

// examples are the Examples sections of the commands, by command path
// with "keyward " left out; token and key share theirs (tokenExamples).
// TestEveryCommandHasExamples holds every command to having one.
var examples = map[string]string{
	"admin org create":         `keyward admin org create "Globex" --owner ann@globex.example`,
	"admin token create":       `keyward admin token create --user ann@globex.example --org globex --name deploy --expires-in 30d`,
	"admin user create":        "keyward admin user create --email bo@acme.example --name Bo --org acme --role viewer\nkeyward admin user create --email cy@acme.example --password-file - < password.txt",
	"admin user password-link": "keyward admin user password-link --email bo@acme.example --url https://keys.acme.example",
	"audit list":               "keyward audit list --since 24h\nkeyward audit list --action token.revoked --limit 20\nkeyward audit list --json time,action,actor,target",
	"audit export":             "keyward audit export --since 7d > audit.jsonl",
	"backup":                   "keyward backup /var/backups/keyward-$(date +%F).db",
	"bootstrap":                "keyward bootstrap --email you@example.com --org Acme\nexport KEYWARD_TOKEN=$(keyward bootstrap --email you@example.com --org Acme --jq .secret)",
	"health":                   "keyward health\nkeyward health --url https://keys.acme.example",
	"login":                    "keyward login --url https://keys.acme.example\necho \"$TOKEN\" | keyward login --url https://keys.acme.example --with-token",
	"logout":                   "keyward logout",
	"member add":               "keyward member add bo@acme.example --role admin",
	"member cancel":            "keyward member cancel inv_0123456789abcdefghij",
	"member invitations":       "keyward member invitations",
	"member list":              "keyward member list\nkeyward member list --json user,role --jq '.[] | select(.role == \"owner\") | .user.email'",
	"member remove":            "keyward member remove bo@acme.example",
	"member role":              "keyward member role bo@acme.example viewer",
	"member show":              "keyward member show bo@acme.example",
	"member suspend":           "keyward member suspend bo@acme.example",
	"member unsuspend":         "keyward member unsuspend bo@acme.example",
	"migrate":                  "keyward migrate --database-url postgres://keyward@db.internal/keyward",
	"migrate status":           "keyward migrate status\nkeyward migrate status --database-url postgres://keyward@db.internal/keyward --json version,applied_at",
	"policy get":               "keyward policy get",
	"policy set":               "keyward policy set --require-expiry=true --max-lifetime 90d\nkeyward policy set --allowed-kinds all",
	"serve":                    "keyward serve\nkeyward serve --addr 0.0.0.0:8080 --database-url postgres://keyward@db.internal/keyward --redis-url redis://cache:6379/0 --rate-limit-nodes 3\nkeyward serve --config keyward.yaml --trusted-proxies 10.0.0.0/8",
	"version":                  "keyward version\nkeyward version -o json",
	"whoami":                   "keyward whoami\nkeyward whoami --jq '.permissions[]'",
	"completion bash":          "source <(keyward completion bash)",
	"completion zsh":           "keyward completion zsh > \"${fpath[1]}/_keyward\"",
	"completion fish":          "keyward completion fish > ~/.config/fish/completions/keyward.fish",
	"completion powershell":    "keyward completion powershell | Out-String | Invoke-Expression",
}

// tokenExamples are the Examples of the verbs that token and key share,
// with NOUN for the command's noun; create has its own for each.
var tokenExamples = map[string]string{
	"list":          "keyward NOUN list --status active\nkeyward NOUN list --all --json id,name,expires_at",
	"show":          "keyward NOUN show tok_0123456789abcdefghij",
	"update":        "keyward NOUN update tok_0123456789abcdefghij --name deploy --description \"CI deploys\"",
	"revoke":        "keyward NOUN revoke tok_0123456789abcdefghij --reason \"left in a public gist\"",
	"regenerate":    "keyward NOUN regenerate tok_0123456789abcdefghij --expires-in 90d",
	"rotate":        "keyward NOUN rotate tok_0123456789abcdefghij --overlap 1d --jq .secret",
	"delete":        "keyward NOUN delete tok_0123456789abcdefghij\nkeyward NOUN delete --all --yes",
	"scopes list":   "keyward NOUN scopes list tok_0123456789abcdefghij",
	"scopes add":    "keyward NOUN scopes add tok_0123456789abcdefghij monitor:m-1:read,update",
	"scopes remove": "keyward NOUN scopes remove tok_0123456789abcdefghij scp_0123456789abcdefghij",
	"scopes clear":  "keyward NOUN scopes clear tok_0123456789abcdefghij",
}

// createExamples are those of token create and key create.
var createExamples = map[string]string{
	"token create": "keyward token create --name ci --expires-in 90d\nkeyward token create --name reader --permission tokens:read --scope \"monitor:*:read,list\" --jq .secret",
	"key create":   "keyward key create --name resource-server --role admin --expires-in 365d\nkeyward key create --name probe-eu --kind probe --allowed-cidr 203.0.113.0/24\nkeyward key create --name agent-7 --kind agent --agent-id agent-7 --rate-limit 600",
}

// addExamples sets the Examples of every command under root that has one.
func addExamples(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(c.CommandPath(), root.Name()+" ")
		if ex, ok := createExamples[path]; ok {
			c.Example = indent(ex)
		} else if noun, verb, ok := strings.Cut(path, " "); ok && (noun == "token" || noun == "key") && tokenExamples[verb] != "" {
			c.Example = indent(strings.ReplaceAll(tokenExamples[verb], "NOUN", noun))
		} else if ex := examples[path]; ex != "" {
			c.Example = indent(ex)
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
}

// indent indents each line of an example as cobra's help shows them.
func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
