package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"

	"github.com/itchyny/gojq"
	"github.com/spf13/cobra"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/client"
)

// env is everything of the world outside that a command may touch, so
// that tests can run commands with fake ones.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// app is one invocation: its environment and the flags every command
// shares.
type app struct {
	env
	// output is "table" or "json" (-o).
	output string
	// jq is the --jq expression, "" for none; query is it compiled.
	jq    string
	query *gojq.Code
	// fields are the --json fields that the JSON output keeps; nil keeps
	// every field.
	fields []string
}

// usageError is a mistake in the command line; it exits with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// The exit statuses, as gh's: 0 on success, 1 on a failure (an unknown
// command among them, with cobra's "Did you mean"), 2 on a mistake in the
// flags or arguments, 4 when the server refuses the credential or none is
// given.
const (
	exitFailure    = 1
	exitUsage      = 2
	exitCredential = 4
)

// run runs the command line args and returns the exit status. Every
// failure is reported on stderr as "keyward: <message>".
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{env: env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "keyward: %s\n", err)
		return exitCode(err, stderr)
	}
	return 0
}

// rootCmd builds the whole command tree for one invocation.
func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "keyward",
		Short: "Personal access tokens and API keys for your product",
		Long: `keyward mints, scopes, expires, revokes, regenerates, rotates, audits and
verifies personal access tokens and API keys.

API commands (token, key, member, policy, audit, whoami) talk to a server
given by --url and --token, or KEYWARD_URL and KEYWARD_TOKEN, or what
'keyward login' stored. Operator commands (serve, bootstrap, admin,
migrate, backup) act on the database given by --database-url or
KEYWARD_DATABASE_URL.`,
		Version:       buildVersion(),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch a.output {
			case "table", "json":
			default:
				return usageError{fmt.Errorf("unknown output %q: want table or json", a.output)}
			}
			if a.fields != nil {
				if len(a.fields) == 0 || slices.Contains(a.fields, "") {
					return usageError{errors.New("--json: name the fields to keep, e.g. --json id,name,status")}
				}
				a.output = "json"
			}
			if a.jq != "" {
				q, err := compileJQ(a.jq)
				if err != nil {
					return usageError{err}
				}
				a.query, a.output = q, "json"
			}
			return nil
		},
	}
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	root.PersistentFlags().StringVarP(&a.jq, "jq", "q", "", "filter the JSON output with a jq expression, e.g. .secret (strings print raw)")
	root.PersistentFlags().StringSliceVar(&a.fields, "json", nil, "print JSON with only these fields, e.g. id,name,status (of each item of a list)")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError{err} })
	root.SetVersionTemplate(fmt.Sprintf("keyward %s (%s)\n", buildVersion(), runtime.Version()))
	root.AddCommand(
		a.serveCmd(),
		a.bootstrapCmd(),
		a.adminCmd(),
		a.migrateCmd(),
		a.backupCmd(),
		a.versionCmd(),
		a.whoamiCmd(),
		a.tokenCmd(),
		a.keyCmd(),
		a.memberCmd(),
		a.policyCmd(),
		a.auditCmd(),
		a.loginCmd(),
		a.logoutCmd(),
		a.manCmd(),
		a.healthCmd(),
	)
	// The completion commands take their writer when they are made.
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.InitDefaultCompletionCmd()
	addExamples(root)
	return root
}

// args wraps a cobra argument check so that its failure is a usage error.
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{fmt.Errorf("%s: %w", cmd.CommandPath(), err)}
		}
		return nil
	}
}

// exitCode is the exit status of a failed command, and says on stderr
// where to look for help when the command line was wrong.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	var ce *client.Error
	var nc noCredential
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "Run 'keyward --help' for usage.\n")
		return exitUsage
	case strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "Run 'keyward --help' for usage.\n")
		return exitFailure
	case errors.As(err, &ce) && (ce.Status == http.StatusUnauthorized || ce.Code == keyward.EIPNOTALLOWED),
		errors.As(err, &nc):
		return exitCredential
	}
	return exitFailure
}
