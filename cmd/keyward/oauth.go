package main

import (
	"log/slog"
	"net/http"
	"net/url"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/oauth"
	"github.com/keyward/keyward/service"
)

// mountOAuth adds the OAuth authorization server to mux, with baseURL as
// its issuer and baseURL + "/mcp" as the one resource it issues tokens
// for.
func mountOAuth(mux *http.ServeMux, svc *service.Service, sessions oauth.Sessions, log *slog.Logger, baseURL string) error {
	h, err := oauth.NewHandler(svc, sessions, oauth.Options{Issuer: baseURL, Logger: log})
	if err != nil {
		return err
	}
	mux.Handle("/oauth/", h)
	mux.Handle("/.well-known/oauth-authorization-server", h)
	return nil
}

// signedOut tells the authorization server that nobody is signed in: it
// stands in until the dashboard's sessions are plugged in, so consent is
// never given without a sign-in.
type signedOut struct{}

func (signedOut) SignedIn(*http.Request) (*keyward.User, error) { return nil, nil }

func (signedOut) SignInURL(next string) string { return "/signin?next=" + url.QueryEscape(next) }
