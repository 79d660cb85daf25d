package service

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/verify"
)

// ImportRow is one existing key to bring into keyward without rotating
// it: its holder, what it is called, its times, and either its SHA-256
// or its plaintext (hashed here, never stored).
type ImportRow struct {
	// Line is where the row came from, for messages.
	Line int
	// Org is the org's slug or id.
	Org string
	// Owner is the email of a member of Org: the key is their personal
	// access token. Without it the key is an org API key.
	Owner string
	// Role is an API key's fixed role; "" means member.
	Role keyward.Role
	// Name is required; Description is optional.
	Name, Description string
	// SHA256 is the key's SHA-256, in hex (64 digits) or base64
	// (standard or URL alphabet, with or without padding).
	SHA256 string
	// Token is the key itself, when the hash is not given.
	Token string
	// CreatedAt, ExpiresAt and LastUsedAt are the key's times, where
	// known; CreatedAt defaults to the time of import.
	CreatedAt, ExpiresAt, LastUsedAt *time.Time
}

// ImportOutcome is what an import did, or would do, with one row.
type ImportOutcome struct {
	Line int
	// Action is "created", "unchanged" (a token with that hash is there
	// already) or "refused" (Err says why; nothing was changed for it).
	Action string
	// TokenID is the token made or found.
	TokenID string
	Err     error
}

// The actions of an ImportOutcome.
const (
	ImportCreated   = "created"
	ImportUnchanged = "unchanged"
	ImportRefused   = "refused"
)

// SourceImported is the source of every imported token.
const SourceImported = "imported"

// AdminImport brings existing keys into keyward, as the operator: each
// row becomes a token of source "imported" that verifies like one keyward
// minted, whatever the key's format. A row whose hash is already a
// token's is unchanged, so a second run changes nothing. Each row is its
// own transaction; a refused row changes nothing and is reported.
func (s *Service) AdminImport(ctx context.Context, rows []ImportRow, opts ImportOptions) []ImportOutcome {
	out := make([]ImportOutcome, 0, len(rows))
	for i, r := range rows {
		id, action, err := s.importRow(ctx, r, opts.DryRun)
		if err != nil {
			action = ImportRefused
		}
		out = append(out, ImportOutcome{Line: r.Line, Action: action, TokenID: id, Err: err})
		if opts.Progress != nil {
			opts.Progress(i + 1)
		}
	}
	return out
}

// ImportOptions configure AdminImport.
type ImportOptions struct {
	// DryRun writes nothing: each outcome says what would be done.
	DryRun bool
	// Progress, if set, is told how many rows are done after each.
	Progress func(done int)
}

// errRollback ends a transaction that must write nothing: a dry run, or a
// row already imported.
var errRollback = errors.New("nothing to write")

func (s *Service) importRow(ctx context.Context, r ImportRow, dryRun bool) (id, action string, err error) {
	hash, display, err := importHash(r)
	if err != nil {
		return "", "", err
	}
	err = s.update(ctx, func(tx Tx) error {
		if t, err := tx.FindTokenByHash(ctx, hash); err == nil {
			id, action = t.ID, ImportUnchanged
			return errRollback // nothing to write
		} else if keyward.ErrorCode(err) != keyward.ENOTFOUND {
			return err
		}
		c, set, err := s.importCaller(ctx, tx, r)
		if err != nil {
			return err
		}
		req := TokenRequest{Name: r.Name, Description: r.Description, Role: r.Role, Source: SourceImported}
		if set == OrgKeys && req.Role == "" {
			req.Role = keyward.RoleMember
		}
		t, _, err := s.newToken(c, set, req)
		if err != nil {
			return err
		}
		now := s.Now()
		t.Hash, t.Display = hash, display
		if r.CreatedAt != nil {
			if r.CreatedAt.After(now) {
				return invalid("created_at is in the future")
			}
			t.CreatedAt = r.CreatedAt.UTC().Truncate(time.Microsecond)
		}
		if r.ExpiresAt != nil {
			// An expired key is imported as expired: it keeps its history.
			if r.ExpiresAt.After(maxExpiry(now)) {
				return invalid("expires_at may be at most %d years from now", MaxExpiryYears)
			}
			e := r.ExpiresAt.UTC().Truncate(time.Microsecond)
			t.ExpiresAt = &e
		}
		if r.LastUsedAt != nil {
			u := r.LastUsedAt.UTC().Truncate(time.Microsecond)
			t.LastUsedAt = &u
		}
		if err := s.insertToken(ctx, tx, c, t); err != nil {
			return err
		}
		id, action = t.ID, ImportCreated
		if dryRun {
			return errRollback
		}
		return nil
	})
	if err == errRollback {
		err = nil
	}
	return id, action, err
}

// importCaller is the operator acting in the row's org: as the owner for
// a personal token, as the org for an API key.
func (s *Service) importCaller(ctx context.Context, tx Tx, r ImportRow) (*Caller, TokenSet, error) {
	if r.Org == "" {
		return nil, 0, invalid("org is required")
	}
	org, err := findOrg(ctx, tx, r.Org)
	if err != nil {
		return nil, 0, err
	}
	c := Operator()
	c.Org, c.Source = org, SourceImported
	if r.Owner == "" {
		c.Role = keyward.RoleOwner
		c.Permissions = s.perms.ForRole(keyward.RoleOwner)
		return c, OrgKeys, nil
	}
	if r.Role != "" {
		return nil, 0, invalid("role is for API keys: a personal token acts with its owner's role")
	}
	u, err := tx.FindUserByEmail(ctx, r.Owner)
	if err != nil {
		return nil, 0, err
	}
	m, err := tx.FindMembership(ctx, org.ID, u.ID)
	if err != nil {
		return nil, 0, keyward.Errorf(keyward.ENOTFOUND, "the owner is not a member of %s", org.Slug)
	}
	c.User, c.Role = u, m.Role
	c.Permissions = s.perms.ForRole(m.Role)
	return c, Personal, nil
}

// importHash is the row's hash and the display form the token will show:
// from the plaintext where given (its first and last characters, as for
// keyward's own), else "imported:" and the hash's first 8 hex digits.
func importHash(r ImportRow) (keyward.Hash, string, error) {
	var h keyward.Hash
	switch {
	case r.Token != "" && r.SHA256 != "":
		return h, "", invalid("give the key's sha256 or the key, not both")
	case r.Token != "":
		if len(r.Token) < verify.MinForeignKeyLen || len(r.Token) > verify.MaxKeyLen {
			return h, "", invalid("the key must be %d to %d characters long to verify", verify.MinForeignKeyLen, verify.MaxKeyLen)
		}
		if strings.ContainsFunc(r.Token, func(c rune) bool { return c <= ' ' || c > '~' }) {
			return h, "", invalid("the key must be printable ASCII without spaces to verify")
		}
		return keyward.HashToken(r.Token), keyward.DisplayToken(r.Token), nil
	case r.SHA256 != "":
		b, err := decodeHash(r.SHA256)
		if err != nil {
			return h, "", err
		}
		copy(h[:], b)
	default:
		return h, "", invalid("give the key's sha256 or the key")
	}
	return h, "imported:" + hex.EncodeToString(h[:4]), nil
}

// decodeHash reads a SHA-256 in hex or base64.
func decodeHash(s string) ([]byte, error) {
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, invalid("sha256 must be 64 hex digits or 32 bytes in base64")
}
