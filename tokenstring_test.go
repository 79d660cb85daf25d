package keyward_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

type vectors struct {
	Vectors []struct {
		Prefix, Secret, Token, Checksum, Display string
	}
	Invalid []string
}

// readVectors reads the project's copy of the reference token vectors.
func readVectors(t testing.TB) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/token-vectors.json")
	if err != nil {
		t.Fatalf("reading the token vectors: %v", err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decoding the token vectors: %v", err)
	}
	if len(v.Vectors) == 0 {
		t.Fatal("no token vectors")
	}
	return v
}

func TestTokenVectors(t *testing.T) {
	v := readVectors(t)
	for _, vec := range v.Vectors {
		if got := keyward.Checksum(vec.Prefix + vec.Secret); got != vec.Checksum {
			t.Errorf("Checksum(%s...): got %q, want %q", vec.Prefix, got, vec.Checksum)
		}
		if got := keyward.FormatToken(vec.Prefix, vec.Secret); got != vec.Token {
			t.Errorf("FormatToken(%s...): got %q, want %q", vec.Prefix, got, vec.Token)
		}
		if got := keyward.DisplayToken(vec.Token); got != vec.Display {
			t.Errorf("DisplayToken: got %q, want %q", got, vec.Display)
		}
		instance := strings.SplitN(vec.Prefix, "_", 2)[0]
		f, err := keyward.NewTokenFormat(instance)
		if err != nil {
			t.Fatal(err)
		}
		kind, err := f.Parse(vec.Token)
		if err != nil {
			t.Errorf("Parse(%s): %v", vec.Display, err)
			continue
		}
		if got := f.Prefix(kind); got != vec.Prefix {
			t.Errorf("Parse(%s): kind %s has prefix %q, want %q", vec.Display, kind, got, vec.Prefix)
		}
	}
	f, _ := keyward.NewTokenFormat("kw")
	for _, bad := range v.Invalid {
		if _, err := f.Parse(bad); keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
			t.Errorf("Parse(%q): got %v, want an unauthorized error", bad, err)
		}
	}
}

func TestParseMessages(t *testing.T) {
	f, _ := keyward.NewTokenFormat("kw")
	good := f.New(keyward.KindPAT)
	tests := []struct {
		name, token, want string
	}{
		{"other instance", "acme" + good[2:], "unknown prefix"},
		{"unknown kind", "kw_xyz_" + good[7:], "unknown prefix"},
		{"short", good[:20], "wrong length"},
		{"long", good + "a", "wrong length"},
		{"bad char", good[:10] + "-" + good[11:], "invalid character"},
		{"typo", good[:10] + flip(good[10]) + good[11:], "checksum mismatch"},
		{"empty", "", "unknown prefix"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.Parse(tt.token)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error saying %q", err, tt.want)
			}
			if tt.token != "" && strings.Contains(err.Error(), tt.token) {
				t.Fatalf("error repeats the token string")
			}
		})
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestNewTokens(t *testing.T) {
	f, err := keyward.NewTokenFormat("acme")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range keyward.Kinds {
		for range 100 {
			tok := f.New(k)
			if seen[tok] {
				t.Fatalf("token minted twice")
			}
			seen[tok] = true
			got, err := f.Parse(tok)
			if err != nil || got != k {
				t.Fatalf("Parse(New(%s)): got %s, %v", k, got, err)
			}
			if !strings.HasPrefix(tok, "acme_") {
				t.Fatalf("got prefix %q, want acme_", tok[:5])
			}
		}
	}
	if _, err := keyward.NewTokenFormat("Bad-Prefix"); err == nil {
		t.Fatal("NewTokenFormat accepted an invalid instance prefix")
	}
}

func FuzzParseToken(f *testing.F) {
	v := readVectors(f)
	for _, vec := range v.Vectors {
		f.Add(vec.Token)
	}
	for _, bad := range v.Invalid {
		f.Add(bad)
	}
	format, _ := keyward.NewTokenFormat("kw")
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := format.Parse(s)
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EUNAUTHORIZED {
				t.Fatalf("got code %s, want unauthorized", keyward.ErrorCode(err))
			}
			// The string may be a secret: no message repeats it, nor its body.
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("the error %q repeats the string", err)
			}
			if body, ok := strings.CutPrefix(s, "kw_pat_"); ok && len(body) >= 8 && strings.Contains(err.Error(), body) {
				t.Fatalf("the error %q repeats the secret", err)
			}
			return
		}
		// An accepted string parses again to the same kind, and its hash
		// is a pure function of it.
		if again, err := format.Parse(strings.Clone(s)); err != nil || again != kind {
			t.Fatalf("a second Parse gave %s, %v", again, err)
		}
		if keyward.HashToken(s) != keyward.HashToken(strings.Clone(s)) {
			t.Fatal("HashToken is not deterministic")
		}
		// An accepted string is exactly prefix + base62 secret + its checksum.
		prefix := format.Prefix(kind)
		if !strings.HasPrefix(s, prefix) || len(s) != len(prefix)+keyward.SecretLen+keyward.ChecksumLen {
			t.Fatalf("accepted a string of the wrong shape")
		}
		if keyward.FormatToken(prefix, s[len(prefix):len(s)-keyward.ChecksumLen]) != s {
			t.Fatalf("accepted a string whose checksum does not match")
		}
	})
}

func BenchmarkParseAndHash(b *testing.B) {
	f, _ := keyward.NewTokenFormat("kw")
	tok := f.New(keyward.KindPAT)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.Parse(tok); err != nil {
			b.Fatal(err)
		}
		_ = keyward.HashToken(tok)
	}
}
