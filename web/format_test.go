package web

import (
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward"
)

func TestSparkline(t *testing.T) {
	flat := newSparkline(nil)
	if flat.Total != 0 || strings.Count(flat.Points, ",") != keyward.UsageDays {
		t.Errorf("no data: got total %d and %d points, want 0 and %d", flat.Total, strings.Count(flat.Points, ","), keyward.UsageDays)
	}
	if !strings.HasSuffix(flat.Points, "120.0,22.0") || !strings.HasPrefix(flat.Points, "0.0,22.0") {
		t.Errorf("no data: got %q, want a flat line along the bottom", flat.Points)
	}
	counts := make([]int, keyward.UsageDays)
	counts[keyward.UsageDays-1] = 10
	counts[0] = 5
	sp := newSparkline(counts)
	if sp.Total != 15 || sp.Peak != 10 {
		t.Errorf("total and peak: got %d and %d, want 15 and 10", sp.Total, sp.Peak)
	}
	if !strings.HasSuffix(sp.Points, "120.0,2.0") || !strings.HasPrefix(sp.Points, "0.0,12.0") {
		t.Errorf("points: got %q; want today at the top and the first day half way", sp.Points)
	}
	if sp.Label != "15 uses in the last 30 days" {
		t.Errorf("label: got %q", sp.Label)
	}
	// Fewer days than the window are the most recent ones.
	short := newSparkline([]int{4})
	if !strings.HasSuffix(short.Points, "120.0,2.0") {
		t.Errorf("one day of data: got %q, want it drawn as today", short.Points)
	}
}

func TestParseScopes(t *testing.T) {
	got, err := parseScopes("monitor:* read list\n\n  dashboard:42 update,delete \r\n")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].EntityType != "monitor" || got[0].EntityID != "*" || strings.Join(got[0].Operations, " ") != "read list" ||
		got[1].EntityID != "42" || strings.Join(got[1].Operations, " ") != "update delete" {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"monitor read", "monitor:*"} {
		if _, err := parseScopes(bad); keyward.ErrorCode(err) != keyward.EINVALID {
			t.Errorf("parseScopes(%q): got %v, want %s", bad, err, keyward.EINVALID)
		}
	}
}

func TestExpiryRequest(t *testing.T) {
	in, at, none, err := expiryRequest("30d", "")
	if in != "30d" || at != nil || none || err != nil {
		t.Errorf("30d: got %q %v %v %v", in, at, none, err)
	}
	_, at, _, err = expiryRequest("custom", "2030-01-31")
	if err != nil || at == nil || !at.Equal(time.Date(2030, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("custom date: got %v %v, want the end of 2030-01-31 UTC", at, err)
	}
	if _, _, none, _ := expiryRequest("none", ""); !none {
		t.Error("none: not none")
	}
	for _, bad := range [][2]string{{"custom", ""}, {"custom", "31/01/2030"}, {"45d", ""}} {
		if _, _, _, err := expiryRequest(bad[0], bad[1]); keyward.ErrorCode(err) != keyward.EINVALID {
			t.Errorf("expiryRequest(%q, %q): got %v, want %s", bad[0], bad[1], err, keyward.EINVALID)
		}
	}
}

func TestCSVRowDefusesFormulas(t *testing.T) {
	row := csvRow(&keyward.AuditEvent{ID: 7, Action: "token.revoked", UserAgent: "=HYPERLINK(\"x\")", Target: "+1", IP: "-2", Actor: "@x"})
	for i, want := range map[int]string{0: "7", 4: "'@x", 6: "'+1", 7: "'-2", 8: `'=HYPERLINK("x")`} {
		if row[i] != want {
			t.Errorf("cell %d: got %q, want %q", i, row[i], want)
		}
	}
}

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{"/org/audit": "/org/audit", "//x.example": "/tokens", "http://x": "/tokens", "": "/tokens", "/a\r\nb": "/tokens"} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q): got %q, want %q", in, got, want)
		}
	}
}

// Tokens name their source; an OAuth token its client by name and id.
func TestSourceLabel(t *testing.T) {
	for _, c := range []struct {
		tok  keyward.Token
		want string
	}{
		{keyward.Token{Source: keyward.SourceDashboard}, "Dashboard"},
		{keyward.Token{Source: keyward.SourceCLI}, "CLI"},
		{keyward.Token{Source: "oauth:dcr_abc", SourceName: "OAuth: Claude Code (dcr_abc)"}, "OAuth: Claude Code (dcr_abc)"},
		{keyward.Token{Source: "oauth:dcr_abc"}, "OAuth: dcr_abc"},
		{keyward.Token{Source: "elsewhere"}, "Unknown"},
	} {
		if got := sourceLabel(&c.tok); got != c.want {
			t.Errorf("source %q: got %q, want %q", c.tok.Source, got, c.want)
		}
	}
}
