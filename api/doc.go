// Package api serves keyward's HTTP API (SPEC section 4) over a
// *service.Service: tokens, org keys, members, policy, the audit log,
// health checks and the OpenAPI document that describes them.
//
// Every route is registered in routes.go on the standard ServeMux. Request
// and response bodies are the types of package client, so the server and
// the Go client cannot drift apart. Errors go through one table (errors.go)
// and one writer; domain values become wire values in convert.go only.
package api
