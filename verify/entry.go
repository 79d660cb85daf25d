package verify

import (
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward"
)

// Record is what one storage read returns for a token: everything a
// verdict needs.
type Record struct {
	// Seq is the newest change-feed sequence number the read saw: its
	// snapshot holds every change up to it. 0 means unknown.
	Seq int64
	// Token is the token's record; nil when no token has the hash.
	Token *keyward.Token
	// Org is the token's org.
	Org *keyward.Org
	// Policy is the org's policy (nil: none).
	Policy *keyward.Policy
	// Membership is the owner's membership of the org for personal
	// tokens; nil for org credentials and when the owner is no longer a
	// member.
	Membership *keyward.Membership
	// User is the owner of a personal token; nil for org credentials.
	User *keyward.User
}

// orgState is an org and its policy as one read saw them, shared by every
// cached token of the org. Apply marks it dead when the policy changes;
// entries that point to a dead state are misses.
type orgState struct {
	org    *keyward.Org
	policy *keyward.Policy
	dead   atomic.Bool
}

// memberState is a user's membership of an org (or its absence) as one
// read saw it, shared by every cached personal token of that user in that
// org.
type memberState struct {
	key    string // orgID + "/" + userID
	userID string
	user   *keyward.User // without its password hash; nil if unknown
	dead   atomic.Bool
}

// entry is one cached token, kept small (88 bytes in its shard's slab,
// plus its strings in the shard's chunks): a million of them must fit
// well under 300 MB. It holds no pointer, so that the garbage collector
// never scans a slab: what entries share (org, membership, permission
// set) and what few tokens have (a permission subset, scopes, an
// allowlist, a rotation, a revocation's details: extra) it names by
// numbers into the cache's states, and its strings by a place in the
// shard's chunks.
type entry struct {
	hash hashKey

	// Times in microseconds since the epoch; 0 means none.
	created, expires int64

	// Numbers of the entry's states; 0 is none (member: an org
	// credential; extra: nothing out of the ordinary).
	org, member, perms, extra uint32

	// The entry's strings are end to end at offset off of chunk chunk of
	// its table's text; ends[i] is where field i ends, counted from off.
	chunk uint32
	// lastUsed is in seconds since the epoch (0: never): what a read saw,
	// shown but never judged by.
	lastUsed uint32

	generation int32
	rateLimit  int32
	ends       [numFields]uint16
	off        uint16

	kind      uint8 // index into keyward.Kinds
	role      uint8 // index into roles: the role in force
	tokenRole uint8 // index into roles: the key's own role
	code      Code  // Valid, Revoked, Blocked or NotMember: all but expiry
	flags     uint8
}

// hashKey is what an entry keeps of its token's SHA-256: the first 128
// bits. A string that is no token would need a second preimage of those
// bits (2^128 tries) to pass for one, and two of a million tokens share
// them with a chance of about 10^-27; the presented string is hashed in
// full, and its verdict carries the whole hash.
type hashKey [16]byte

func keyOf(h *keyward.Hash) hashKey { return hashKey(h[:16]) }

// Fields of an entry's text.
const (
	fieldID = iota
	fieldCreatedBy
	fieldName
	fieldDescription
	fieldDisplay
	fieldSource
	fieldLastUsedIP
	numFields
)

// Flags of an entry.
const (
	// flagCreatorIsOwner: CreatedBy is the owner's user id (not stored
	// twice).
	flagCreatorIsOwner = 1 << iota
)

// permSet is an effective permission set and the same joined with
// commas, as GET /v1/auth answers it.
type permSet struct {
	list   keyward.Permissions
	joined string
}

func newPermSet(p keyward.Permissions) *permSet {
	return &permSet{list: p, joined: strings.Join(p, ",")}
}

// extra holds what few tokens have.
type extra struct {
	subset       keyward.Permissions
	scopes       []keyward.Scope
	cidrs        []netip.Prefix
	agentID      string
	familyID     string // "" when it is the token's own id
	supersededBy string
	revokedAt    int64 // µs
	revokedBy    string
	revokeReason string
	blocked      string // why the token is blocked
}

// roles indexes keyward's roles for entries; 0 is no role.
var roles = [...]keyward.Role{"", keyward.RoleOwner, keyward.RoleAdmin, keyward.RoleMember, keyward.RoleViewer}

func roleIndex(r keyward.Role) uint8 {
	for i, x := range roles {
		if x == r {
			return uint8(i)
		}
	}
	return 0
}

func kindIndex(k keyward.Kind) uint8 {
	for i, x := range keyward.Kinds {
		if x == k {
			return uint8(i)
		}
	}
	return 0
}

// textLen is the length of the entry's text.
func (e *entry) textLen() int { return int(e.ends[numFields-1]) }

// field returns field f of text, the entry's text.
func (e *entry) field(text string, f int) string {
	start := uint16(0)
	if f > 0 {
		start = e.ends[f-1]
	}
	return text[start:e.ends[f]]
}

// newEntry builds an entry from a storage read, with fresh states and no
// numbers but the interned permission set's (intern numbers the
// permissions of a kind with a role): the cache attaches it to the
// shared states before it caches it.
func newEntry(h keyward.Hash, r *Record, model *keyward.PermissionModel, intern func(keyward.Kind, keyward.Role) (uint32, *permSet)) (entry, held) {
	t := r.Token
	hd := held{org: &orgState{org: r.Org, policy: r.Policy}}
	e := entry{
		hash:       keyOf(&h),
		created:    micros(&t.CreatedAt),
		expires:    micros(t.ExpiresAt),
		lastUsed:   seconds(t.LastUsedAt),
		generation: int32(t.Generation),
		rateLimit:  int32(t.RateLimit),
		kind:       kindIndex(t.Kind),
		tokenRole:  roleIndex(t.Role),
	}
	createdBy := t.CreatedBy
	if t.Kind.Personal() {
		m := &memberState{key: memberKey(t.OrgID, t.UserID), userID: t.UserID}
		if r.User != nil {
			u := *r.User
			u.PasswordHash = ""
			m.user = &u
		}
		hd.member = m
		if createdBy == t.UserID {
			e.flags |= flagCreatorIsOwner
			createdBy = ""
		}
	}
	hd.text = e.setText(t.ID, createdBy, t.Name, t.Description, t.Display, t.Source, t.LastUsedIP)

	x := &extra{
		scopes:       t.Scopes,
		cidrs:        t.AllowedCIDRs,
		agentID:      t.AgentID,
		supersededBy: t.SupersededBy,
		revokedAt:    micros(t.RevokedAt),
		revokedBy:    t.RevokedBy,
		revokeReason: t.RevokeReason,
		subset:       t.Permissions,
	}
	if t.FamilyID != t.ID {
		x.familyID = t.FamilyID
	}

	// What does not depend on the time of asking is settled now, in the
	// order Authenticate has always checked it: revoked; (expiry at each
	// request); suspended or against policy; no longer a member.
	role := t.Role
	if t.Kind.Personal() && r.Membership != nil {
		role = r.Membership.Role
	}
	e.role = roleIndex(role)
	switch {
	case t.RevokedAt != nil:
		e.code = Revoked
	case t.Kind.Personal() && r.Membership != nil && r.Membership.Suspended:
		e.code, x.blocked = Blocked, "token owner is suspended"
	default:
		if breaks, why := r.Policy.Breaks(t); breaks {
			e.code, x.blocked = Blocked, why
		} else if t.Kind.Personal() && r.Membership == nil {
			e.code = NotMember
		}
	}
	if t.Permissions == nil {
		e.perms, hd.perms = intern(t.Kind, role)
	} else {
		hd.perms = newPermSet(model.ForKind(t.Kind, role).Intersect(t.Permissions))
	}
	if x.subset != nil || len(x.scopes) > 0 || len(x.cidrs) > 0 || x.agentID != "" || x.familyID != "" ||
		x.supersededBy != "" || x.revokedAt != 0 || x.revokedBy != "" || x.revokeReason != "" || x.blocked != "" {
		hd.extra = x
	}
	return e, hd
}

// setText packs the entry's strings into one allocation, which it
// returns, and notes where each ends.
func (e *entry) setText(fields ...string) string {
	n := 0
	for _, f := range fields {
		n += len(f)
	}
	b := make([]byte, 0, n)
	for i, f := range fields {
		b = append(b, f...)
		e.ends[i] = uint16(len(b))
	}
	return string(b)
}

// token rebuilds a keyward.Token from the entry and what it holds (State
// left unset).
func (e *entry) token(h *held) *keyward.Token {
	str := func(f int) string { return e.field(h.text, f) }
	t := &keyward.Token{
		ID:          str(fieldID),
		Kind:        keyward.Kinds[e.kind],
		OrgID:       h.org.org.ID,
		CreatedBy:   str(fieldCreatedBy),
		Name:        str(fieldName),
		Description: str(fieldDescription),
		Source:      str(fieldSource),
		Display:     str(fieldDisplay),
		CreatedAt:   time.UnixMicro(e.created).UTC(),
		ExpiresAt:   timePtr(e.expires),
		LastUsedIP:  str(fieldLastUsedIP),
		Generation:  int(e.generation),
		Role:        roles[e.tokenRole],
		RateLimit:   int(e.rateLimit),
	}
	t.FamilyID = t.ID
	if e.lastUsed != 0 {
		last := time.Unix(int64(e.lastUsed), 0).UTC()
		t.LastUsedAt = &last
	}
	if h.member != nil {
		t.UserID = h.member.userID
		if e.flags&flagCreatorIsOwner != 0 {
			t.CreatedBy = t.UserID
		}
	}
	if x := h.extra; x != nil {
		t.Permissions, t.Scopes, t.AllowedCIDRs = x.subset, x.scopes, x.cidrs
		t.AgentID, t.SupersededBy, t.RevokedBy, t.RevokeReason = x.agentID, x.supersededBy, x.revokedBy, x.revokeReason
		t.RevokedAt = timePtr(x.revokedAt)
		if x.familyID != "" {
			t.FamilyID = x.familyID
		}
	}
	return t
}

func micros(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMicro()
}

func seconds(t *time.Time) uint32 {
	if t == nil {
		return 0
	}
	return uint32(max(1, min(t.Unix(), 1<<32-1)))
}

func timePtr(us int64) *time.Time {
	if us == 0 {
		return nil
	}
	t := time.UnixMicro(us).UTC()
	return &t
}

func memberKey(orgID, userID string) string { return orgID + "/" + userID }
