package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// credentials is what 'keyward login' stores: one server and its token.
type credentials struct {
	URL   string `json:"url"`
	Token string `json:"token"`
}

// credentialsFile returns where the stored login lives:
// $KEYWARD_CONFIG_DIR/credentials.json, or credentials.json in keyward's
// folder of the user's configuration directory.
func (a *app) credentialsFile() (string, error) {
	dir := a.getenv("KEYWARD_CONFIG_DIR")
	if dir == "" {
		base, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("finding the configuration directory (set KEYWARD_CONFIG_DIR): %w", err)
		}
		dir = filepath.Join(base, "keyward")
	}
	return filepath.Join(dir, "credentials.json"), nil
}

// loadCredentials reads the stored login; it returns nil, nil when there is
// none.
func (a *app) loadCredentials() (*credentials, error) {
	path, err := a.credentialsFile()
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the stored login: %w", err)
	}
	var c credentials
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("reading the stored login %s: %w", path, err)
	}
	return &c, nil
}

// saveCredentials stores c readable by the user only: the file 0600 in a
// directory 0700, replaced atomically.
func (a *app) saveCredentials(c credentials) (string, error) {
	path, err := a.credentialsFile()
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("restricting %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encoding the login: %w", err)
	}
	f, err := os.CreateTemp(dir, ".credentials-*.json")
	if err != nil {
		return "", fmt.Errorf("storing the login: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return "", fmt.Errorf("storing the login: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return "", fmt.Errorf("storing the login: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("storing the login: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("storing the login: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return "", fmt.Errorf("storing the login: %w", err)
	}
	return path, nil
}

// sameServer reports whether two server URLs name the same server, so that
// a stored token is never sent to another one.
func sameServer(a, b string) bool {
	return strings.TrimRight(a, "/") == strings.TrimRight(b, "/")
}
