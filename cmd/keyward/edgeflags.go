package main

import (
	"fmt"
	"slices"

	"github.com/keyward/keyward/config"
	"github.com/spf13/cobra"
)

// edgeFlags are serve's settings for the edge of verification: the
// configuration file and the trusted proxies.
type edgeFlags struct {
	configPath string
	proxies    []string
}

// add gives serve --config and --trusted-proxies, defaulting to
// KEYWARD_CONFIG and KEYWARD_TRUSTED_PROXIES.
func (e *edgeFlags) add(a *app, cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&e.configPath, "config", a.getenv("KEYWARD_CONFIG"),
		"configuration file, YAML or JSON: product permissions, trusted proxies, route policy of /v1/auth ($KEYWARD_CONFIG)")
	f.StringSliceVar(&e.proxies, "trusted-proxies", splitList(a.getenv("KEYWARD_TRUSTED_PROXIES")),
		"addresses or CIDRs whose X-Forwarded-For is believed, e.g. 127.0.0.1,10.0.0.0/8; replaces the file's ($KEYWARD_TRUSTED_PROXIES)")
}

// edgeConfig is the configuration serve runs with.
type edgeConfig struct{ *config.Config }

func (c edgeConfig) ruleCount() int {
	if c.Routes == nil {
		return 0
	}
	return len(c.Routes.Rules())
}

// load reads the configuration file (if any), lets --trusted-proxies
// replace its proxies, and adds its permissions to db's.
func (e *edgeFlags) load(db *dbFlags) (edgeConfig, error) {
	cfg := &config.Config{}
	if e.configPath != "" {
		var err error
		if cfg, err = config.Load(e.configPath); err != nil {
			return edgeConfig{}, err
		}
	}
	if len(e.proxies) > 0 {
		proxies, err := config.ParsePrefixes(e.proxies)
		if err != nil {
			return edgeConfig{}, usageError{fmt.Errorf("--trusted-proxies: %w", err)}
		}
		cfg.TrustedProxies = proxies
	}
	for _, p := range cfg.Permissions {
		if !slices.Contains(db.permissions, p) {
			db.permissions = append(db.permissions, p)
		}
	}
	return edgeConfig{cfg}, nil
}
