package main

import (
	"net/http"
	"net/url"

	"github.com/keyward/keyward"
)

// signedOut tells the authorization server that nobody is signed in: it
// stands in until the dashboard's sessions are plugged in, so consent is
// never given without a sign-in.
type signedOut struct{}

func (signedOut) SignedIn(*http.Request) (*keyward.User, error) { return nil, nil }

func (signedOut) SignInURL(next string) string { return "/signin?next=" + url.QueryEscape(next) }
