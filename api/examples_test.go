package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/keyward/keyward/internal/testenv"
)

// updateExamples makes TestEveryOperationMatchesSchema write what the
// server answered (and was sent) into openapi.json as the examples of
// each operation:
//
//	go test ./api -run TestEveryOperationMatchesSchema -update-openapi-examples
var updateExamples = flag.Bool("update-openapi-examples", false, "write the answers of TestEveryOperationMatchesSchema into openapi.json as examples")

// Every operation of openapi.json shows an example of its success answer
// (each media type) and of its JSON request body, and each example
// matches the schema beside it.
func TestOpenAPIExamples(t *testing.T) {
	oa := loadOpenAPI(t)
	for _, op := range oa.operations() {
		method, tmpl, _ := strings.Cut(op, " ")
		pointer := "/paths/" + escapePointer(tmpl) + "/" + strings.ToLower(method)
		o := oa.resolve(pointer)
		if rb, ok := o["requestBody"].(map[string]any); ok {
			for mt, media := range rb["content"].(map[string]any) {
				checkExample(t, oa, op+" request", pointer+"/requestBody/content/"+escapePointer(mt), media)
			}
		}
		for status, r := range o["responses"].(map[string]any) {
			resp := r.(map[string]any)
			if !strings.HasPrefix(status, "2") || resp["$ref"] != nil {
				continue
			}
			content, _ := resp["content"].(map[string]any)
			for mt, media := range content {
				checkExample(t, oa, op+" "+status+" "+mt, pointer+"/responses/"+status+"/content/"+escapePointer(mt), media)
			}
		}
	}
}

// checkExample fails the test unless media (at pointer) has an example
// that its schema admits.
func checkExample(t *testing.T, oa *openAPI, what, pointer string, media any) {
	t.Helper()
	ex, ok := media.(map[string]any)["example"]
	if !ok {
		t.Errorf("%s: no example (go test ./api -run TestEveryOperationMatchesSchema -update-openapi-examples writes them)", what)
		return
	}
	sch, err := oa.schema(pointer + "/schema")
	if err != nil {
		t.Errorf("%s: compiling its schema: %v", what, err)
		return
	}
	if err := sch.Validate(ex); err != nil {
		t.Errorf("%s: the example does not match the schema: %v", what, err)
	}
}

// exampleIDs replaces the random parts of what the server answers, so
// that the examples stay the same from one update to the next: ids and
// secrets become numbered stand-ins of the same shape.
type exampleIDs struct {
	seen map[string]string
	n    map[string]int
}

var (
	idPattern     = regexp.MustCompile(`\b(tok|org|usr|scp|inv|dcr)_[0-9A-Za-z]{20}\b`)
	secretPattern = regexp.MustCompile(`\bkw_(pat|key|agt|prb|oat)_[0-9A-Za-z]{36}\b`)
	displayPat    = regexp.MustCompile(`\bkw_(pat|key|agt|prb|oat)_[0-9A-Za-z]{3}\.\.\.[0-9A-Za-z]{4}\b`)
)

func (x *exampleIDs) replace(b []byte) []byte {
	sub := func(re *regexp.Regexp, b []byte, make func(prefix string, n int) string) []byte {
		return re.ReplaceAllFunc(b, func(m []byte) []byte {
			s := string(m)
			if r, ok := x.seen[s]; ok {
				return []byte(r)
			}
			prefix := s[:strings.Index(s, "_")+1]
			if strings.HasPrefix(s, "kw_") {
				prefix = s[:7]
			}
			x.n[prefix]++
			r := make(prefix, x.n[prefix])
			x.seen[s] = r
			return []byte(r)
		})
	}
	b = sub(secretPattern, b, func(p string, n int) string { return p + fmt.Sprintf("Example%029d", n) })
	b = sub(displayPat, b, func(p string, n int) string { return p + "Exa..." + fmt.Sprintf("%04d", n) })
	b = sub(idPattern, b, func(p string, n int) string { return p + fmt.Sprintf("%020d", n) })
	return b
}

// writeExamples writes the first success answer of each operation, and
// the request body that got it, into openapi.json.
func writeExamples(t *testing.T, e *env) {
	t.Helper()
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	x := &exampleIDs{seen: map[string]string{}, n: map[string]int{}}
	done := map[string]bool{}
	for _, a := range e.bodies() {
		tmpl, ok := e.oa.template(a.path)
		if !ok || a.status/100 != 2 {
			continue
		}
		op, ok := doc["paths"].(map[string]any)[tmpl].(map[string]any)[strings.ToLower(a.method)].(map[string]any)
		if !ok {
			continue
		}
		key := fmt.Sprintf("%s %s %d %s", a.method, tmpl, a.status, a.header.Get("Content-Type"))
		if done[key] {
			continue
		}
		done[key] = true
		if rb, ok := op["requestBody"].(map[string]any); ok && a.sent != nil {
			if media, ok := rb["content"].(map[string]any)["application/json"].(map[string]any); ok && media["example"] == nil {
				setExample(t, media, x.replace(a.sent), "application/json")
			}
		}
		resp, ok := op["responses"].(map[string]any)[fmt.Sprint(a.status)].(map[string]any)
		if !ok {
			continue
		}
		content, _ := resp["content"].(map[string]any)
		mt, _, _ := strings.Cut(a.header.Get("Content-Type"), ";")
		media, ok := content[mt].(map[string]any)
		switch {
		case !ok:
		case tmpl == "/openapi.json":
			// Not the whole document again: its opening.
			media["example"] = map[string]any{"openapi": "3.1.0", "paths": map[string]any{"/healthz": map[string]any{"get": map[string]any{"operationId": "healthz"}}}}
		default:
			setExample(t, media, x.replace(a.body), mt)
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("openapi.json", out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote the examples of %d answers into openapi.json", len(done))
}

// setExample sets media's example to body as its media type reads it: a
// JSON document, the first line of JSON lines, or text.
func setExample(t *testing.T, media map[string]any, body []byte, mt string) {
	t.Helper()
	switch {
	case mt == "application/x-ndjson":
		body, _, _ = bytes.Cut(body, []byte("\n"))
		fallthrough
	case strings.HasSuffix(mt, "json"):
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("an answer of type %s is not JSON: %v", mt, err)
		}
		media["example"] = shorten(v)
	default:
		// A long text (the metrics) is cut to its first lines.
		lines := strings.SplitAfter(string(body), "\n")
		media["example"] = strings.Join(lines[:min(len(lines), 12)], "")
	}
}

// shorten keeps at most two items of each list of objects in v: an
// example shows the shape, not a whole page.
func shorten(v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) > 2 {
			if _, ok := x[0].(map[string]any); ok {
				x = x[:2]
			}
		}
		for i := range x {
			x[i] = shorten(x[i])
		}
		return x
	case map[string]any:
		for k := range x {
			x[k] = shorten(x[k])
		}
	}
	return v
}

// openapi.json passes Redocly CLI's lint, every warning an error
// (api/redocly.yaml), with the CLI version api/testdata/redocly pins.
func TestOpenAPILint(t *testing.T) {
	node, npm := testenv.Node(t)
	dir, err := filepath.Abs("testdata/redocly")
	if err != nil {
		t.Fatal(err)
	}
	testenv.NPMInstall(t, npm, dir)
	cmd := exec.Command(node, filepath.Join(dir, "node_modules/@redocly/cli/bin/cli.js"), "lint", "--config", "redocly.yaml", "--format", "stylish", "openapi.json")
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	// recommended-strict makes every problem an error, so the exit status
	// says it all.
	if err != nil || !bytes.Contains(out, []byte("Your API description is valid")) {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
}
