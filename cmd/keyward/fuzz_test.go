package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParseScope checks the CLI's TYPE:ID:OPS: a scope that parses has a
// type without a colon, operations without spaces or commas, and writes
// back to a string that parses to the same scope; a refusal is a usage
// error.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{
		"monitor:*:read,list", "monitor:a:b:c:read", "monitor::read", ":x:read", "a:b:", "a:b: , ,", "a:b",
		"a", "", "::", "a:b:read, list ,", "é:ü:read", "a:b:\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		sc, err := parseScope(v)
		if err != nil {
			var u usageError
			if !errors.As(err, &u) {
				t.Fatalf("parseScope(%q): %T is not a usage error", v, err)
			}
			return
		}
		if sc.EntityType == "" || strings.Contains(sc.EntityType, ":") {
			t.Fatalf("parseScope(%q): entity type %q", v, sc.EntityType)
		}
		for _, op := range sc.Operations {
			if op == "" || op != strings.TrimSpace(op) || strings.Contains(op, ",") {
				t.Fatalf("parseScope(%q): operation %q", v, op)
			}
		}
		if len(sc.Operations) == 0 {
			return
		}
		again := sc.EntityType + ":" + sc.EntityID + ":" + strings.Join(sc.Operations, ",")
		back, err := parseScope(again)
		if err != nil || back.EntityType != sc.EntityType || back.EntityID != sc.EntityID || !slices.Equal(back.Operations, sc.Operations) {
			t.Fatalf("parseScope(%q) = %+v; written back as %q it parses to %+v, %v", v, sc, again, back, err)
		}
	})
}

// FuzzParseWhen checks --since and --until: an age is never in the
// future, a time written back in RFC 3339 reads as the same instant, and
// a refusal is a usage error that names the flag.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"", "24h", "7d", "90m", "0d", "-1d", "07d", "+7d", " 7d", "2026-01-31", "2026-01-31T12:00", "2026-01-31T12:00:00Z",
		"2026-01-31T12:00:00.123456789+05:30", "9999999999d", "2562048h", "2026-13-01", "1h30m", "now",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 8, 1, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		got, err := parseWhen("--since", v, now)
		if err != nil {
			var u usageError
			if !errors.As(err, &u) || !strings.HasPrefix(err.Error(), "--since ") {
				t.Fatalf("parseWhen(%q): %v (%T)", v, err, err)
			}
			return
		}
		if v == "" {
			if !got.IsZero() {
				t.Fatalf("parseWhen(\"\") = %v", got)
			}
			return
		}
		if again, err := parseWhen("--since", v, now); err != nil || !again.Equal(got) {
			t.Fatalf("parseWhen(%q) gave %v, then %v, %v", v, got, again, err)
		}
		if got.Year() < 1 || got.Year() > 9999 {
			return // time.Format cannot write it in RFC 3339
		}
		text := got.Format(time.RFC3339Nano)
		back, err := parseWhen("--since", text, now)
		if err != nil || !back.Equal(got) {
			t.Fatalf("parseWhen(%q) = %v; %q reads as %v, %v", v, got, text, back, err)
		}
	})
}
