package credential_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/internal/credential"
)

const goodToken = "kw_pat_0123456789abcdefghijABCDEFGHIJ012345"

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name, header string
		want         string // the token, or "" when refused
		msg          string // part of the refusal
	}{
		{"bearer", "Bearer " + goodToken, goodToken, ""},
		{"lower case scheme", "bearer " + goodToken, goodToken, ""},
		{"upper case scheme", "BEARER " + goodToken, goodToken, ""},
		{"mixed case scheme", "bEaReR " + goodToken, goodToken, ""},
		{"empty", "", "", "empty Authorization header"},
		{"scheme only", "Bearer", "", "found no token"},
		{"scheme and space", "Bearer ", "", "found no token"},
		{"scheme and spaces", "Bearer   ", "", "found no token"},
		{"two spaces", "Bearer  " + goodToken, "", "found two spaces"},
		{"tab", "Bearer\t" + goodToken, "", "found a tab"},
		{"space then tab", "Bearer \t" + goodToken, "", "whitespace before the token"},
		{"trailing space", "Bearer " + goodToken + " ", "", "trailing whitespace"},
		{"trailing tab", "Bearer " + goodToken + "\t", "", "trailing whitespace"},
		{"leading space", " Bearer " + goodToken, "", "whitespace before the scheme"},
		{"inner space", "Bearer kw_pat_0123 456789", "", "whitespace inside the token"},
		{"two tokens", "Bearer " + goodToken + " " + goodToken, "", "whitespace inside the token"},
		{"basic", "Basic dXNlcjpwYXNz", "", `unsupported scheme "Basic"`},
		{"token scheme", "Token " + goodToken, "", `unsupported scheme "Token"`},
		{"no scheme", goodToken, "", "found no scheme"},
		{"token as scheme", goodToken + " x", "", "unsupported scheme"},
		{"control character", "Bearer kw_pat_\x01abc", "", "cannot be in a token"},
		{"non-ASCII", "Bearer kw_pat_é", "", "cannot be in a token"},
		{"too long", "Bearer " + strings.Repeat("a", 600), "", "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := credential.ParseAuthorization(tt.header)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v, want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q, want an error saying %q", got, tt.msg)
			}
			if keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("got code %s, want unauthorized", keyward.ErrorCode(err))
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %q, want it to say %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), goodToken) {
				t.Fatalf("the message repeats the token: %q", err)
			}
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"Bearer " + goodToken, "bearer x", "Bearer", "Bearer ", "Bearer  x", "Bearer\tx", "Bearer x ",
		"Basic abc", "", " ", "x", "Bearer x y", "BEARER kw_key_abc", "Bearer \x00", "Bearer é",
		"Bearer " + strings.Repeat("z", 513),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		tok, err := credential.ParseAuthorization(header)
		if err != nil {
			if tok != "" {
				t.Fatalf("got token %q with error %v", tok, err)
			}
			if keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("got code %s, want unauthorized", keyward.ErrorCode(err))
			}
			return
		}
		if len(header) < 7 || !strings.EqualFold(header[:7], "bearer ") {
			t.Fatalf("accepted %q, which does not start with the scheme and one space", header)
		}
		if tok != header[7:] {
			t.Fatalf("got token %q, want the rest of the header %q", tok, header[7:])
		}
		if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
			t.Fatalf("accepted a token with whitespace or non-printable characters: %q", tok)
		}
	})
}
