package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
)

// apiConn holds the flags that say which server to call and as whom.
type apiConn struct {
	url   string
	token string
	org   string
}

// addAPIFlags gives an API command group --url and --token.
func (a *app) addAPIFlags(cmd *cobra.Command, c *apiConn) {
	cmd.PersistentFlags().StringVar(&c.url, "url", "", "server URL (default $KEYWARD_URL, then the stored login)")
	cmd.PersistentFlags().StringVar(&c.token, "token", "", "token to present (default $KEYWARD_TOKEN, then the stored login)")
}

// addOrgFlag gives an org command group --org.
func (a *app) addOrgFlag(cmd *cobra.Command, c *apiConn) {
	cmd.PersistentFlags().StringVar(&c.org, "org", "", "org id or slug (default the token's org)")
}

// userAgent is what the CLI tells the server it is.
// noCredential is the failure of an API command given no server or no
// token; it exits with status 4.
type noCredential struct{ error }

func userAgent() string { return "keyward-cli/" + buildVersion() }

// client returns a client for the server and token chosen by the flags,
// then KEYWARD_URL and KEYWARD_TOKEN, then the stored login. The stored
// token is only ever sent to the server it was stored for.
func (a *app) client(c *apiConn) (*client.Client, error) {
	url, token := c.url, c.token
	if url == "" {
		url = a.getenv("KEYWARD_URL")
	}
	if token == "" {
		token = a.getenv("KEYWARD_TOKEN")
	}
	if url == "" || token == "" {
		stored, err := a.loadCredentials()
		if err != nil {
			return nil, err
		}
		if stored != nil {
			if url == "" {
				url = stored.URL
			}
			if token == "" && sameServer(url, stored.URL) {
				token = stored.Token
			}
		}
	}
	if url == "" {
		return nil, noCredential{errors.New("no server: give --url, set KEYWARD_URL or run 'keyward login'")}
	}
	if token == "" {
		return nil, noCredential{fmt.Errorf("no token for %s: give --token, set KEYWARD_TOKEN or run 'keyward login'", url)}
	}
	return client.New(url, token, client.WithUserAgent(userAgent())), nil
}

// orgClient returns a client and the org to act on, for commands under
// /v1/orgs/{org}.
func (a *app) orgClient(ctx context.Context, c *apiConn) (*client.Client, string, error) {
	cl, err := a.client(c)
	if err != nil {
		return nil, "", err
	}
	org, err := a.orgRef(ctx, cl, c)
	return cl, org, err
}

// orgRef returns the org to act on: --org, or else the org the token is
// pinned to, as /v1/whoami tells.
func (a *app) orgRef(ctx context.Context, cl *client.Client, c *apiConn) (string, error) {
	if c.org != "" {
		return c.org, nil
	}
	w, err := cl.Whoami(ctx)
	if err != nil {
		return "", fmt.Errorf("finding the token's org (or give --org): %w", err)
	}
	if w.Org.Slug != "" {
		return w.Org.Slug, nil
	}
	return w.Org.ID, nil
}
