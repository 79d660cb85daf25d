package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/keyward/keyward/api"
)

// docURL names the OpenAPI document inside the schema compiler.
const docURL = "https://keyward.invalid/openapi.json"

// openAPI checks answers against the response schemas of the embedded
// OpenAPI document, and remembers which operations and statuses it saw.
type openAPI struct {
	doc      map[string]any
	compiler *jsonschema.Compiler

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
	seen    map[string]bool // "GET /v1/tokens/{id} 200"
}

func loadOpenAPI(t testing.TB) *openAPI {
	t.Helper()
	raw := api.OpenAPI()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, inst); err != nil {
		t.Fatalf("adding openapi.json to the compiler: %v", err)
	}
	return &openAPI{doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, seen: map[string]bool{}}
}

// schema compiles the schema at a JSON pointer of the document.
func (o *openAPI) schema(pointer string) (*jsonschema.Schema, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.schemas[pointer]; ok {
		return s, nil
	}
	s, err := o.compiler.Compile(docURL + "#" + pointer)
	if err != nil {
		return nil, err
	}
	o.schemas[pointer] = s
	return s, nil
}

// template finds the document's path template for a concrete path,
// preferring the one with the most literal segments.
func (o *openAPI) template(path string) (string, bool) {
	segs := strings.Split(path, "/")
	best, bestLit := "", -1
	for tmpl := range o.doc["paths"].(map[string]any) {
		tsegs := strings.Split(tmpl, "/")
		if len(tsegs) != len(segs) {
			continue
		}
		lit, ok := 0, true
		for i, ts := range tsegs {
			switch {
			case strings.HasPrefix(ts, "{") && strings.HasSuffix(ts, "}"):
				ok = ok && segs[i] != ""
			case ts == segs[i]:
				lit++
			default:
				ok = false
			}
		}
		if ok && lit > bestLit {
			best, bestLit = tmpl, lit
		}
	}
	return best, bestLit >= 0
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// check validates one answer against the document: the operation, its
// response for status (exact, then 4XX/5XX, then default), the media type
// and the body's schema. It returns what does not match.
func (o *openAPI) check(method, path string, status int, header http.Header, body []byte) error {
	tmpl, ok := o.template(path)
	if !ok {
		if status >= 400 {
			return o.checkError(status, header, body) // an unknown route
		}
		return fmt.Errorf("%s %s: no path of openapi.json matches", method, path)
	}
	pathItem := o.doc["paths"].(map[string]any)[tmpl].(map[string]any)
	opKey := strings.ToLower(method)
	if method == http.MethodHead {
		opKey = "get"
	}
	opv, ok := pathItem[opKey].(map[string]any)
	if !ok {
		if status == http.StatusMethodNotAllowed || status == http.StatusBadRequest {
			return o.checkError(status, header, body)
		}
		return fmt.Errorf("%s %s: openapi.json has no %s operation, yet the answer is %d", method, tmpl, opKey, status)
	}
	responses := opv["responses"].(map[string]any)
	pointer := "/paths/" + escapePointer(tmpl) + "/" + opKey + "/responses/"
	key := strconv.Itoa(status)
	if _, ok := responses[key]; !ok {
		key = strconv.Itoa(status/100) + "XX"
		if _, ok := responses[key]; !ok {
			key = "default"
		}
	}
	resp, ok := responses[key].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: openapi.json has no response for %d", method, tmpl, status)
	}
	pointer += escapePointer(key)
	if ref, ok := resp["$ref"].(string); ok {
		pointer = strings.TrimPrefix(ref, "#")
		resp = o.resolve(pointer)
	}
	o.mu.Lock()
	o.seen[fmt.Sprintf("%s %s %d", strings.ToUpper(opKey), tmpl, status)] = true
	o.mu.Unlock()
	return o.checkContent(fmt.Sprintf("%s %s %d", method, tmpl, status), pointer, resp, header, body)
}

// checkError validates an answer that no operation describes (404 and 405
// of the mux) against the Error schema.
func (o *openAPI) checkError(status int, header http.Header, body []byte) error {
	return o.checkContent(fmt.Sprintf("HTTP %d", status), "/components/responses/Error", o.resolve("/components/responses/Error"), header, body)
}

func (o *openAPI) resolve(pointer string) map[string]any {
	var v any = o.doc
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		v = v.(map[string]any)[tok]
	}
	return v.(map[string]any)
}

func (o *openAPI) checkContent(what, pointer string, resp map[string]any, header http.Header, body []byte) error {
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) != 0 {
			return fmt.Errorf("%s: openapi.json describes no body, got %d bytes", what, len(body))
		}
		return nil
	}
	mt, _, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s: Content-Type %q: %v", what, header.Get("Content-Type"), err)
	}
	if _, ok := content[mt]; !ok {
		return fmt.Errorf("%s: got Content-Type %s, openapi.json has %v", what, mt, keys(content))
	}
	sch, err := o.schema(pointer + "/content/" + escapePointer(mt) + "/schema")
	if err != nil {
		return fmt.Errorf("%s: compiling its schema: %v", what, err)
	}
	docs := [][]byte{body}
	if mt == "application/x-ndjson" {
		docs = bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
		if len(body) == 0 {
			docs = nil
		}
	}
	for _, d := range docs {
		if strings.HasPrefix(mt, "text/") {
			// A text body is a string to its schema.
			d, _ = json.Marshal(string(d))
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(d))
		if err != nil {
			return fmt.Errorf("%s: body is not JSON: %v", what, err)
		}
		if err := sch.Validate(inst); err != nil {
			return fmt.Errorf("%s: body does not match openapi.json: %v\nbody: %s", what, err, d)
		}
	}
	return nil
}

// operations lists every "METHOD /path" of the document.
func (o *openAPI) operations() []string {
	var out []string
	for tmpl, item := range o.doc["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			switch method {
			case "get", "put", "post", "delete", "patch", "head", "options", "trace":
				out = append(out, strings.ToUpper(method)+" "+tmpl)
			}
		}
	}
	sort.Strings(out)
	return out
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
