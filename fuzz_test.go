package keyward_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward"
)

// FuzzParseDuration checks the lifetimes that expires_in, overlap and the
// CLI read: a success is non-negative and round-trips through
// FormatDuration; surrounding space changes nothing; an error is
// EINVALID and never repeats the input (a pasted secret must not come
// back in an answer).
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{
		"90d", "12h", "30m", "1h30m", "0", "0d", "-1d", "-1h", " 7d ", "d", "1.5d", "36600d", "36601d",
		"9223372036854775807d", "2562047h", "2562048h", "1e3h", "+3d", "0x10d", "kw_pat_0123456789ABCDEFGHIJabcdefghij012345",
		"1µs", "1ns", "\t1d\n", "١d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := keyward.ParseDuration(s)
		if err != nil {
			if keyward.ErrorCode(err) != keyward.EINVALID {
				t.Fatalf("got code %s, want invalid", keyward.ErrorCode(err))
			}
			if v := strings.TrimSpace(s); len(v) >= 4 && strings.Contains(err.Error(), v) {
				t.Fatalf("the error %q repeats the input", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, d)
		}
		text := keyward.FormatDuration(d)
		back, err := keyward.ParseDuration(text)
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; FormatDuration gave %q, which parses to %v, %v", s, d, text, back, err)
		}
		if again, err := keyward.ParseDuration(" " + s + " "); err != nil || again != d {
			t.Fatalf("surrounding space changed ParseDuration(%q): %v, %v", s, again, err)
		}
	})
}

// FuzzPermissions checks the permission lists a token request or a
// configuration carries: NewPermissions is sorted, without repeats,
// idempotent and holds exactly its inputs; ValidPermissionName agrees
// with its definition; a model built from valid product permissions
// knows each of them.
func FuzzPermissions(f *testing.F) {
	f.Add("monitors:read,monitors:write,monitors:read")
	f.Add("tokens:read")
	f.Add("a:b,:b,a:,a:b:c,A:b,a.b-c_d:e")
	f.Add(",,,")
	f.Add("x:" + strings.Repeat("y", 65))
	f.Add("é:x,agent:heartbeat,probe:report")
	f.Fuzz(func(t *testing.T, list string) {
		in := strings.Split(list, ",")
		if len(in) > 64 {
			in = in[:64] // the model is quadratic in its size; a configuration is small
		}
		p := keyward.NewPermissions(in...)
		if !slices.IsSorted(p) {
			t.Fatalf("NewPermissions(%q) is not sorted: %q", in, p)
		}
		if len(slices.Compact(slices.Clone(p))) != len(p) {
			t.Fatalf("NewPermissions(%q) has repeats: %q", in, p)
		}
		if !slices.Equal(keyward.NewPermissions(p...), p) {
			t.Fatalf("NewPermissions is not idempotent on %q", p)
		}
		for _, s := range in {
			if !p.Has(s) {
				t.Fatalf("NewPermissions(%q) lacks %q", in, s)
			}
		}
		if !slices.Equal(p.Intersect(p), p) {
			t.Fatalf("%q intersected with itself is %q", p, p.Intersect(p))
		}
		var valid []string
		for _, s := range in {
			r, a, ok := strings.Cut(s, ":")
			want := ok && keyward.ValidIdentifier(r) && keyward.ValidIdentifier(a)
			if keyward.ValidPermissionName(s) != want {
				t.Fatalf("ValidPermissionName(%q) = %v", s, !want)
			}
			if want && r != "tokens" && r != "members" && r != "apikeys" && r != "audit" && r != "policy" {
				valid = append(valid, s)
			}
		}
		m, err := keyward.NewPermissionModel(keyward.NewPermissions(valid...))
		if err != nil {
			t.Fatalf("NewPermissionModel(%q): %v", valid, err)
		}
		for _, s := range valid {
			if !m.Known(s) {
				t.Fatalf("the model does not know %q", s)
			}
		}
		if _, err := keyward.NewPermissionModel(in); err == nil {
			for _, s := range in {
				if !keyward.ValidPermissionName(s) {
					t.Fatalf("NewPermissionModel accepted %q", s)
				}
			}
		}
	})
}
