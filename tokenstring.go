package keyward

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"strings"
	"unsafe"
)

// base62 is the alphabet of secrets and checksums, in digit order.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	// SecretLen is the number of base62 characters of a token's secret:
	// 30 characters carry 178 bits.
	SecretLen = 30
	// ChecksumLen is the number of base62 characters of a token's checksum.
	ChecksumLen = 6
	// DefaultInstancePrefix names the installation in every token string.
	DefaultInstancePrefix = "kw"
)

// Hash is the SHA-256 of a whole token string, the only form in which a
// token is stored.
type Hash [sha256.Size]byte

// HashToken returns the SHA-256 of the whole token string.
func HashToken(token string) Hash { return sha256.Sum256(stringBytes(token)) }

// stringBytes returns the bytes of s without copying them, for functions
// that only read them: the verification path must not allocate.
func stringBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Checksum returns the 6-character base62 CRC-32 (IEEE) of prefix+secret,
// most significant digit first, left-padded with '0'.
func Checksum(prefixAndSecret string) string {
	var out [ChecksumLen]byte
	checksumInto(&out, crc32.ChecksumIEEE([]byte(prefixAndSecret)))
	return string(out[:])
}

func checksumInto(out *[ChecksumLen]byte, v uint32) {
	for i := ChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[v%62]
		v /= 62
	}
}

// NewSecret returns SecretLen characters of base62 from crypto/rand, without
// modulo bias.
func NewSecret() string {
	var out [SecretLen]byte
	var buf [64]byte
	n := 0
	for n < SecretLen {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("keyward: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every digit equally likely.
			if b < 248 && n < SecretLen {
				out[n] = base62[b%62]
				n++
			}
		}
	}
	return string(out[:])
}

// FormatToken returns prefix+secret+checksum.
func FormatToken(prefix, secret string) string {
	return prefix + secret + Checksum(prefix+secret)
}

// DisplayToken returns the non-secret display form of a token string: its
// first 10 characters, "...", and its last 4.
func DisplayToken(token string) string {
	if len(token) < 14 {
		return token
	}
	return token[:10] + "..." + token[len(token)-4:]
}

// TokenFormat knows the prefixes of one installation and checks presented
// token strings against them. The zero value is not usable; call
// NewTokenFormat.
type TokenFormat struct {
	instance string
	head     string // instance + "_"
	prefixes map[Kind]string
}

// NewTokenFormat returns the format for the instance prefix ("kw" when
// empty). The prefix must be lower-case letters and digits.
func NewTokenFormat(instance string) (*TokenFormat, error) {
	if instance == "" {
		instance = DefaultInstancePrefix
	}
	if len(instance) > 16 {
		return nil, Errorf(EINVALID, "token prefix %q is longer than 16 characters", instance)
	}
	for _, c := range instance {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return nil, Errorf(EINVALID, "token prefix %q may hold only a-z and 0-9", instance)
		}
	}
	f := &TokenFormat{instance: instance, head: instance + "_", prefixes: map[Kind]string{}}
	for _, k := range Kinds {
		f.prefixes[k] = instance + "_" + k.shortName() + "_"
	}
	return f, nil
}

// Instance returns the instance prefix, such as "kw".
func (f *TokenFormat) Instance() string { return f.instance }

// Prefix returns the token prefix for kind, such as "kw_pat_".
func (f *TokenFormat) Prefix(k Kind) string { return f.prefixes[k] }

// New mints a fresh token string of kind k.
func (f *TokenFormat) New(k Kind) string { return FormatToken(f.prefixes[k], NewSecret()) }

// Ours reports whether token starts with this installation's prefix, as
// its tokens do (well-formed or not).
func (f *TokenFormat) Ours(token string) bool { return strings.HasPrefix(token, f.head) }

// Parse checks a presented token string without any look-up: a known
// prefix, a base62 secret of the right length and a matching checksum. It
// returns the token's kind, or an EUNAUTHORIZED error that says what is
// wrong and never repeats the string.
func (f *TokenFormat) Parse(token string) (Kind, error) {
	rest, ok := strings.CutPrefix(token, f.head)
	if !ok || len(rest) < 4 || rest[3] != '_' {
		return "", Errorf(EUNAUTHORIZED, "not a keyward token: unknown prefix")
	}
	kind, ok := kindByShortName(rest[:3])
	if !ok {
		return "", Errorf(EUNAUTHORIZED, "not a keyward token: unknown prefix")
	}
	body := rest[4:]
	if len(body) != SecretLen+ChecksumLen {
		return "", Errorf(EUNAUTHORIZED, "malformed token: wrong length")
	}
	for i := 0; i < len(body); i++ {
		if !isBase62(body[i]) {
			return "", Errorf(EUNAUTHORIZED, "malformed token: invalid character")
		}
	}
	var want [ChecksumLen]byte
	checksumInto(&want, crc32.ChecksumIEEE(stringBytes(token[:len(token)-ChecksumLen])))
	if string(want[:]) != token[len(token)-ChecksumLen:] {
		return "", Errorf(EUNAUTHORIZED, "malformed token: checksum mismatch")
	}
	return kind, nil
}

func isBase62(c byte) bool { return base62Set[c] }

// base62Set marks the bytes of the base62 alphabet.
var base62Set = func() (set [256]bool) {
	for i := 0; i < len(base62); i++ {
		set[base62[i]] = true
	}
	return set
}()
