package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCmd writes the man pages, made from the commands themselves: one a
// command, keyward.1, keyward-token-create.1 and so on. Packagers run it
// at build time; it is hidden from the help.
func (a *app) manCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "man DIR",
		Short:   "Write keyward's man pages into DIR",
		Example: "  keyward man /usr/local/share/man/man1",
		Hidden:  true,
		Args:    args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, argv []string) error {
			if err := os.MkdirAll(argv[0], 0o755); err != nil {
				return err
			}
			header := &doc.GenManHeader{Title: "KEYWARD", Section: "1", Source: "keyward " + buildVersion(), Manual: "keyward manual"}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, header, argv[0]); err != nil {
				return fmt.Errorf("writing the man pages: %w", err)
			}
			fmt.Fprintf(a.stderr, "Wrote the man pages into %s.\n", argv[0])
			return nil
		},
	}
}
