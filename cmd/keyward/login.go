package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/keyward/keyward/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// defaultURL is the server login talks to when none is given.
const defaultURL = "http://127.0.0.1:8080"

func (a *app) loginCmd() *cobra.Command {
	var (
		url       string
		withToken bool
	)
	cmd := &cobra.Command{
		Use:   "login [--url URL] [--with-token]",
		Short: "Store a server URL and token for the API commands",
		Long: `Login asks for a token at a prompt (or reads it from stdin with
--with-token), checks it with the server's /v1/whoami, and stores the URL
and token, readable by you only, for the API commands to use when neither
--url/--token nor KEYWARD_URL/KEYWARD_TOKEN are given.

  keyward login --url https://keys.example.com
  echo "$TOKEN" | keyward login --url https://keys.example.com --with-token`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				url = a.getenv("KEYWARD_URL")
			}
			if url == "" {
				url = defaultURL
			}
			url = strings.TrimRight(strings.TrimSpace(url), "/")
			token, err := a.readToken(withToken)
			if err != nil {
				return err
			}
			cl := client.New(url, token, client.WithUserAgent(userAgent()))
			w, err := cl.Whoami(cmd.Context())
			if err != nil {
				return fmt.Errorf("checking the token with %s: %w", url, err)
			}
			path, err := a.saveCredentials(credentials{URL: url, Token: token})
			if err != nil {
				return err
			}
			if a.json() {
				return a.printJSON(w)
			}
			who := "an org credential"
			if w.User != nil {
				who = w.User.Email
			}
			fmt.Fprintf(a.stdout, "Logged in to %s as %s in %s", url, who, w.Org.Slug)
			if w.Role != nil {
				fmt.Fprintf(a.stdout, " (%s)", *w.Role)
			}
			fmt.Fprintf(a.stdout, ".\nStored in %s.\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "server URL (default $KEYWARD_URL, then "+defaultURL+")")
	cmd.Flags().BoolVar(&withToken, "with-token", false, "read the token from standard input")
	return cmd
}

// promptPassword asks for a new password twice on the terminal, never
// echoed, and returns it when both agree.
func (a *app) promptPassword() (string, error) {
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usageError{errors.New("no terminal to prompt on: give the password with --password-file")}
	}
	var pw [2]string
	for i, ask := range []string{"Owner's dashboard password: ", "Again: "} {
		fmt.Fprint(a.stderr, ask)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		pw[i] = string(b)
	}
	if pw[0] != pw[1] {
		return "", errors.New("the two passwords differ: nothing was changed")
	}
	return pw[0], nil
}

// readToken reads the token to log in with: all of stdin with
// --with-token, else from a prompt on the terminal, never echoed.
func (a *app) readToken(fromStdin bool) (string, error) {
	var token string
	if fromStdin {
		b, err := io.ReadAll(io.LimitReader(a.stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("reading the token from stdin: %w", err)
		}
		token = string(b)
	} else {
		f, ok := a.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", usageError{errors.New("no terminal to prompt on: pipe the token with --with-token")}
		}
		fmt.Fprint(a.stderr, "Paste your token: ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			// Fall back to a plain line where echo cannot be turned off.
			line, rerr := bufio.NewReader(f).ReadString('\n')
			if rerr != nil && line == "" {
				return "", fmt.Errorf("reading the token: %w", err)
			}
			b = []byte(line)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errors.New("no token given")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return "", errors.New("the token holds spaces or several lines: give one token")
	}
	return token, nil
}
