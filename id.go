package keyward

import (
	"crypto/rand"
	"strconv"
	"strings"
	"time"
)

// Prefixes of public ids. Ids are not secret.
const (
	IDPrefixToken = "tok_"
	IDPrefixOrg   = "org_"
	IDPrefixUser  = "usr_"
	IDPrefixScope = "scp_"
)

// NewID returns prefix followed by 20 random base62 characters.
func NewID(prefix string) string {
	var b [20]byte
	var buf [32]byte
	n := 0
	for n < len(b) {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("keyward: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c < 248 && n < len(b) {
				b[n] = base62[c%62]
				n++
			}
		}
	}
	return prefix + string(b[:])
}

// ParseDuration reads a lifetime such as "90d", "12h", "30m" or any Go
// duration ("1h30m"). Days are 24 hours.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > maxDays {
			return 0, Errorf(EINVALID, "invalid duration: want a number of days such as \"90d\"")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(EINVALID, "invalid duration: want e.g. \"90d\", \"12h\" or \"30m\"")
	}
	return d, nil
}

// maxDays bounds a duration written in days ("90d").
const maxDays = 100 * 366

// FormatDuration writes d as ParseDuration reads it, in whole days when it
// is a whole number of days that ParseDuration reads as days (a longer one,
// given in hours, is written in hours).
func FormatDuration(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 && d/(24*time.Hour) <= maxDays {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	return d.String()
}

// Slugify turns an org name into a slug: lower-case letters, digits and
// single dashes.
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// ValidSlug reports whether s is a usable org slug.
func ValidSlug(s string) bool {
	return s != "" && len(s) <= 64 && Slugify(s) == s && !strings.HasPrefix(s, IDPrefixOrg)
}
