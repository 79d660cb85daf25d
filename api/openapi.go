package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
)

// openAPI is the OpenAPI 3.1 document of every route in routes.go.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the embedded OpenAPI 3.1 document, whose one server is
// relative ("/": the host that serves it).
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// openAPIDocument returns the document served at /openapi.json, naming
// baseURL as its server when given.
func openAPIDocument(baseURL string) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, fmt.Errorf("decoding openapi.json: %w", err)
	}
	if baseURL != "" {
		doc["servers"] = []map[string]string{{"url": baseURL}}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding openapi.json: %w", err)
	}
	return append(b, '\n'), nil
}
