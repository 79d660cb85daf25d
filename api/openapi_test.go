package api_test

import (
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/keyward/keyward/api"
)

// Every route of routes.go is in openapi.json, and every operation of
// openapi.json is a route.
func TestRoutesMatchOpenAPI(t *testing.T) {
	o := loadOpenAPI(t)
	routes := api.Patterns()
	sort.Strings(routes)
	ops := o.operations()
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for _, op := range ops {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.json operation %q is not a route", op)
		}
	}
	if len(routes) != len(ops) {
		t.Errorf("got %d routes and %d operations, want the same number", len(routes), len(ops))
	}
}

// The document is OpenAPI 3.1, and every component schema compiles as
// JSON Schema 2020-12.
func TestOpenAPIDocument(t *testing.T) {
	o := loadOpenAPI(t)
	if got := o.doc["openapi"]; got != "3.1.0" {
		t.Errorf("openapi: got %v, want 3.1.0", got)
	}
	comps := o.doc["components"].(map[string]any)
	for _, name := range []string{"Token", "TokenSecret", "TokenList", "KeyList", "Member", "MemberList", "MemberRemoved", "Policy", "AuditEvent", "AuditList", "Whoami", "Error"} {
		if _, err := o.schema("/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	for name := range comps["schemas"].(map[string]any) {
		if _, err := o.schema("/components/schemas/" + name); err != nil {
			t.Errorf("schema %s: %v", name, err)
		}
	}
	schemes := comps["securitySchemes"].(map[string]any)
	if b, _ := json.Marshal(schemes["bearerAuth"]); string(b) == "null" {
		t.Error("no bearerAuth security scheme")
	}
	if b, _ := json.Marshal(schemes["apiKeyAuth"]); string(b) == "null" {
		t.Error("no apiKeyAuth security scheme")
	}
	seen := map[string]bool{}
	for tmpl, item := range o.doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			id, _ := op.(map[string]any)["operationId"].(string)
			if id == "" || seen[id] {
				t.Errorf("%s %s: operationId %q missing or repeated", method, tmpl, id)
			}
			seen[id] = true
		}
	}
}
