// Package keyward holds the domain of keyward: personal access tokens, org
// API keys, agent and probe tokens, the orgs, users and roles that own them,
// org policy and the audit log.
//
// It has no dependency on HTTP or SQL. Storage lives in sqlstore (with the
// sqlite and postgres packages selecting a dialect), the rules that combine
// storage into use cases in service, the HTTP API in api and the CLI in
// cmd/keyward.
package keyward
