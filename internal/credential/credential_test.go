package credential_test

import (
	"net/http"
	"net/url"
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
			noEcho(t, err, header)
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

// tokenLike returns the runs of letters, digits and '_' in s longer than a
// scheme name may be: what could be (part of) a secret.
func tokenLike(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_')
	}) {
		if len(f) > 16 {
			out = append(out, f)
		}
	}
	return out
}

// noEcho fails t when err repeats a token-like part of any input.
func noEcho(t *testing.T, err error, inputs ...string) {
	t.Helper()
	for _, in := range inputs {
		for _, w := range tokenLike(in) {
			if strings.Contains(err.Error(), w) || strings.Contains(keyward.ErrorDetail(err), w) {
				t.Fatalf("the error %q repeats %q from the input", err, w)
			}
		}
	}
}

func FuzzFromHeader(f *testing.F) {
	f.Add("Bearer "+goodToken, goodToken, uint8(3))
	f.Add("Bearer "+goodToken, "kw_pat_other", uint8(3))
	f.Add("", goodToken, uint8(2))
	f.Add("Basic "+goodToken, "", uint8(1))
	f.Add(goodToken, " "+goodToken, uint8(7))
	f.Add("Bearer "+goodToken, goodToken+" ", uint8(15))
	f.Add("", "", uint8(0))
	f.Fuzz(func(t *testing.T, auth, key string, which uint8) {
		h := http.Header{}
		if which&1 != 0 {
			h["Authorization"] = []string{auth}
			if which&4 != 0 {
				h["Authorization"] = append(h["Authorization"], auth)
			}
		}
		if which&2 != 0 {
			h["X-Api-Key"] = []string{key}
			if which&8 != 0 {
				h["X-Api-Key"] = append(h["X-Api-Key"], key)
			}
		}
		tok, err := credential.FromHeader(h)
		if err != nil {
			if tok != "" {
				t.Fatalf("got token %q with error %v", tok, err)
			}
			if keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("got code %s, want unauthorized", keyward.ErrorCode(err))
			}
			if (which&3 == 0) != (err == credential.ErrMissing) {
				t.Fatalf("headers %v: got %v", h, err)
			}
			noEcho(t, err, auth, key)
			return
		}
		if which&5 == 5 || which&10 == 10 {
			t.Fatalf("accepted a repeated header: %v", h)
		}
		if which&1 != 0 {
			if want, err := credential.ParseAuthorization(auth); err != nil || want != tok {
				t.Fatalf("FromHeader gave %q where ParseAuthorization gives %q, %v", tok, want, err)
			}
		}
		if which&2 != 0 && tok != key {
			t.Fatalf("FromHeader gave %q for X-API-Key %q", tok, key)
		}
		if strings.ContainsFunc(tok, func(r rune) bool { return r <= ' ' || r >= 0x7f }) || len(tok) > 512 {
			t.Fatalf("accepted the token %q", tok)
		}
	})
}

func FuzzTokenInQuery(f *testing.F) {
	for _, s := range []string{
		"", "a=1", "token=x", "x=1&TOKEN=2", "a=1;access_token=x", "%74oken=x", "+token+=1", "api%5Fkey=1",
		"key", "keys=1", "%zz=1&key=1", "&&;;", "t%00oken=1", "Api_Key=1&",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		name, found := credential.TokenInQuery(raw)
		if found != (name != "") {
			t.Fatalf("TokenInQuery(%q) = %q, %v", raw, name, found)
		}
		// Whatever net/url reads as a parameter name, a token parameter among
		// them is found: no spelling slips through.
		for _, part := range strings.FieldsFunc(raw, func(r rune) bool { return r == '&' || r == ';' }) {
			n, _, _ := strings.Cut(part, "=")
			u, err := url.QueryUnescape(n)
			if err != nil {
				continue
			}
			for _, p := range []string{"token", "access_token", "api_key", "key"} {
				if strings.EqualFold(strings.TrimSpace(u), p) && !found {
					t.Fatalf("TokenInQuery(%q) missed %q", raw, p)
				}
			}
		}
		if found {
			if err := credential.ErrTokenInURL(name); keyward.ErrorCode(err) != keyward.ETOKENINURL {
				t.Fatalf("ErrTokenInURL(%q) has code %s", name, keyward.ErrorCode(err))
			}
		}
	})
}
