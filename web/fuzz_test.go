package web

import (
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

// FuzzParseScopes checks the dashboard's scopes box, one "type:id op op"
// a line: each scope read has a type without a colon and at least one
// operation without spaces or commas, written back it reads the same,
// and an error is EINVALID and names only the line number.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{
		"monitor:* read list", "monitor:m1 read,list\n\nqueue:q:1 publish", "monitor read", "monitor:x", ":x read", "\n \n",
		"a:b read\r\nc:d list", "kw_pat_0123456789abcdefghijABCDEFGHIJ012345 read", "é:ü read", "a:b\u00a0read",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		scopes, err := parseScopes(text)
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EINVALID || !strings.HasPrefix(keyward.ErrorMessage(err), "scope line ") {
				t.Fatalf("parseScopes(%q): %v", text, err)
			}
			for _, w := range strings.FieldsFunc(text, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
			}) {
				if len(w) >= 12 && strings.Contains(err.Error(), w) {
					t.Fatalf("the error %q repeats %q", err, w)
				}
			}
			return
		}
		var lines []string
		for _, sc := range scopes {
			if strings.Contains(sc.EntityType, ":") || len(sc.Operations) == 0 {
				t.Fatalf("parseScopes(%q) read %+v", text, sc)
			}
			for _, op := range sc.Operations {
				if op == "" || strings.ContainsAny(op, ", \t\n") {
					t.Fatalf("parseScopes(%q): operation %q", text, op)
				}
			}
			lines = append(lines, sc.EntityType+":"+sc.EntityID+" "+strings.Join(sc.Operations, " "))
		}
		back, err := parseScopes(strings.Join(lines, "\n"))
		if err != nil || len(back) != len(scopes) {
			t.Fatalf("parseScopes(%q) = %+v; written back it reads %+v, %v", text, scopes, back, err)
		}
		for i := range back {
			if back[i].EntityType != scopes[i].EntityType || back[i].EntityID != scopes[i].EntityID || strings.Join(back[i].Operations, " ") != strings.Join(scopes[i].Operations, " ") {
				t.Fatalf("parseScopes(%q) = %+v; written back it reads %+v", text, scopes, back)
			}
		}
	})
}
