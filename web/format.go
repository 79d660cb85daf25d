package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward"
)

// funcs are the helpers templates may call. None produces HTML: every
// value is escaped by html/template.
var funcs = template.FuncMap{
	"ago":         ago,
	"date":        func(t time.Time) string { return t.UTC().Format("Jan 2, 2006") },
	"datetime":    func(t time.Time) string { return t.UTC().Format("Jan 2, 2006 15:04 UTC") },
	"iso":         func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"until":       until,
	"last4":       last4,
	"source":      sourceLabel,
	"kind":        kindLabel,
	"sparkline":   newSparkline,
	"compact":     compactJSON,
	"join":        strings.Join,
	"hasPrefix":   strings.HasPrefix,
	"statusText":  statusText,
	"duration":    keyward.FormatDuration,
	"removeArgs":  newRemoveForm,
	"splitAction": func(a string) []string { return strings.SplitN(a, ".", 2) },
}

// ago says how long before now t was, as people say it.
func ago(t time.Time) string {
	d := time.Since(t)
	if d < 0 {
		return "just now"
	}
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return "on " + t.UTC().Format("Jan 2, 2006")
}

// until says when t comes: "in 29 days", or "2 days ago" once past.
func until(t time.Time) string {
	d := time.Until(t)
	if d <= 0 {
		return ago(t)
	}
	switch {
	case d < time.Hour:
		return "in " + plural(int(d/time.Minute)+1, "minute")
	case d < 48*time.Hour:
		return "in " + plural(int(d/time.Hour)+1, "hour")
	}
	return "in " + plural(int((d+12*time.Hour)/(24*time.Hour)), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// last4 returns the last 4 characters of a token's display form: what
// the person compares with the token they hold.
func last4(display string) string {
	if len(display) < 4 {
		return display
	}
	return display[len(display)-4:]
}

// sourceLabel names where t was minted; an OAuth token by its client's
// name and id ("OAuth: Claude Code (dcr_...)").
func sourceLabel(t *keyward.Token) string {
	switch src := t.Source; {
	case src == keyward.SourceDashboard:
		return "Dashboard"
	case src == keyward.SourceCLI:
		return "CLI"
	case src == keyward.SourceAPI:
		return "API"
	case strings.HasPrefix(src, keyward.SourceOAuthPrefix) && t.SourceName != "":
		return t.SourceName
	case strings.HasPrefix(src, keyward.SourceOAuthPrefix):
		return keyward.SourceLabel(src, "")
	}
	return "Unknown"
}

// kindLabel names a kind of credential for people.
func kindLabel(k keyward.Kind) string {
	switch k {
	case keyward.KindPAT:
		return "Personal access token"
	case keyward.KindOAuth:
		return "OAuth token"
	case keyward.KindAPIKey:
		return "API key"
	case keyward.KindAgent:
		return "Agent token"
	case keyward.KindProbe:
		return "Probe token"
	}
	return string(k)
}

// statusText names a status for a badge.
func statusText(s keyward.Status) string {
	if s == "" {
		return "unknown"
	}
	return string(s)
}

// compactJSON shows an audit event's details on one line.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var parts []string
	for _, k := range sortedKeys(v) {
		b, _ := json.Marshal(v[k])
		parts = append(parts, k+"="+string(b))
	}
	return strings.Join(parts, " ")
}

// Sparkline is a token's daily use over keyward.UsageDays days, drawn as
// an inline SVG polyline.
type Sparkline struct {
	// Points are the polyline's "x,y" pairs in a Width x Height box.
	Points        string
	Width, Height int
	Total, Peak   int
	// Label describes the line for screen readers.
	Label string
}

// newSparkline draws counts (oldest first). With no data it is a flat
// line at zero, which is what no use looks like.
func newSparkline(counts []int) Sparkline {
	const w, h, pad = 120, 24, 2
	sp := Sparkline{Width: w, Height: h}
	n := keyward.UsageDays
	vals := make([]int, n)
	if len(counts) > n {
		counts = counts[len(counts)-n:]
	}
	copy(vals[n-len(counts):], counts)
	for _, v := range vals {
		sp.Total += v
		sp.Peak = max(sp.Peak, v)
	}
	var b strings.Builder
	for i, v := range vals {
		x := float64(i) * float64(w) / float64(n-1)
		y := float64(h - pad)
		if sp.Peak > 0 {
			y = float64(h-pad) - float64(v)/float64(sp.Peak)*float64(h-2*pad)
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.1f,%.1f", x, y)
	}
	sp.Points = b.String()
	sp.Label = fmt.Sprintf("%s in the last %d days", plural(sp.Total, "use"), n)
	return sp
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
