package service_test

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// TestPropertyNoCredentialGainsPower runs random sequences of actions by
// random callers (owners, admins, members and viewers of two orgs, and
// every credential the sequence has minted) on every backend, and checks
// after each action, against what verifications admit rather than what
// the service stored:
//
//   - a secret an action yields has no power its caller lacks;
//   - a credential whose power grew through an action (a role, a scope
//     removed, a member unsuspended) has no power the caller lacks;
//   - a refused action changes nothing, and an action never changes
//     another org;
//   - no token family has more than one head (a token not rotated out),
//     and a rotated-out token's successor, while it is kept, is of its
//     family.
//
// The number of sequences is propertyChecks unless -rapid.checks is
// given; a failure is shrunk and its sequence saved under testdata/rapid
// (ignored by git) for -rapid.failfile.
func TestPropertyNoCredentialGainsPower(t *testing.T) {
	setRapidChecks(t, propertyChecks)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.open(t)
			ck := &clock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
			svc, err := service.New(store, service.Options{Now: ck.Now, Sleep: ck.Sleep, ProductPermissions: []string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"}})
			if err != nil {
				t.Fatal(err)
			}
			run := 0
			rapid.Check(t, func(rt *rapid.T) {
				run++
				w := newWorld(rt, svc, store, ck, run)
				rt.Repeat(w.actions())
			})
		})
	}
}

// setRapidChecks sets rapid's number of checks to n unless the command
// line or RAPID_CHECKS chose one.
func setRapidChecks(t *testing.T, n int) {
	t.Helper()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	if _, env := os.LookupEnv("RAPID_CHECKS"); set || env {
		return
	}
	old := flag.Lookup("rapid.checks").Value.String()
	if err := flag.Set("rapid.checks", strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { flag.Set("rapid.checks", old) })
}

// credential is one secret the property test holds, named for messages
// (a secret never reaches the test's output), with an address its
// allowlist admits.
type credential struct {
	name   string
	secret string
	addr   netip.Addr
}

// world is one sequence's state: two orgs with their people, and every
// credential minted so far.
type world struct {
	ctx   context.Context
	svc   *service.Service
	store service.Store
	clock *clock
	orgs  []*keyward.Org
	users []*keyward.User
	creds []credential
	step  int
}

var loopback = netip.MustParseAddr("127.0.0.1")

// newWorld makes two fresh orgs (run numbers keep them apart from earlier
// sequences on the same store): an owner, an admin, a member and a viewer
// in the first, an owner and a member in the second, each with a PAT.
func newWorld(rt *rapid.T, svc *service.Service, store service.Store, ck *clock, run int) *world {
	w := &world{ctx: context.Background(), svc: svc, store: store, clock: ck}
	people := []struct {
		org  int
		role keyward.Role
	}{{0, keyward.RoleOwner}, {0, keyward.RoleAdmin}, {0, keyward.RoleMember}, {0, keyward.RoleViewer}, {1, keyward.RoleOwner}, {1, keyward.RoleMember}}
	for _, slug := range []string{"alpha", "beta"} {
		slug = fmt.Sprintf("%s-%d", slug, run)
		email := fmt.Sprintf("owner-%d@%s.example", run, slug)
		if _, err := svc.AdminCreateUser(w.ctx, email, "", "", "", ""); err != nil {
			rt.Fatal(err)
		}
		org, err := svc.AdminCreateOrg(w.ctx, slug, slug, email)
		if err != nil {
			rt.Fatal(err)
		}
		w.orgs = append(w.orgs, org)
	}
	for i, p := range people {
		org := w.orgs[p.org]
		email := fmt.Sprintf("%s-%d@%s.example", p.role, i, org.Slug)
		if p.role == keyward.RoleOwner {
			email = fmt.Sprintf("owner-%d@%s.example", run, org.Slug)
		} else if _, err := svc.AdminCreateUser(w.ctx, email, "", "", org.Slug, p.role); err != nil {
			rt.Fatal(err)
		}
		tok, secret, err := svc.AdminCreateToken(w.ctx, email, org.Slug, service.TokenRequest{Name: "pat"})
		if err != nil {
			rt.Fatal(err)
		}
		u, err := findUser(w.ctx, store, tok.UserID)
		if err != nil {
			rt.Fatal(err)
		}
		w.users = append(w.users, u)
		w.creds = append(w.creds, credential{name: fmt.Sprintf("PAT of %s of %s", p.role, org.Slug), secret: secret, addr: loopback})
	}
	return w
}

func findUser(ctx context.Context, store service.Store, id string) (*keyward.User, error) {
	var u *keyward.User
	err := store.View(ctx, func(tx service.Tx) error {
		var err error
		u, err = tx.FindUserByID(ctx, id)
		return err
	})
	return u, err
}

// actions are the property test's actions: every action of the service
// that yields a secret or changes a credential or a membership, by a
// caller drawn from the live credentials, on a target drawn from both
// orgs; and the clock moving on.
func (w *world) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"mint": func(rt *rapid.T) {
			set := rapid.SampledFrom([]service.TokenSet{service.Personal, service.OrgKeys}).Draw(rt, "set")
			req := w.drawTokenRequest(rt, set)
			w.act(rt, "mint", func(c *service.Caller) (*keyward.Token, string, error) {
				return w.svc.CreateToken(w.ctx, c, set, req)
			})
		},
		"regenerate": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			req := w.drawRegenerate(rt)
			w.act(rt, "regenerate "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				return w.svc.RegenerateToken(w.ctx, c, set, t, req)
			})
		},
		"rotate": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			overlap := rapid.SampledFrom([]time.Duration{0, time.Hour}).Draw(rt, "overlap")
			req := w.drawRegenerate(rt)
			w.act(rt, "rotate "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				return w.svc.RotateToken(w.ctx, c, set, t, overlap, req)
			})
		},
		"revoke": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			w.act(rt, "revoke "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.RevokeToken(w.ctx, c, set, t, "test")
				return nil, "", err
			})
		},
		"delete": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			w.act(rt, "delete "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				return nil, "", w.svc.DeleteToken(w.ctx, c, set, t)
			})
		},
		"add scope": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			sc := drawScope(rt)
			w.act(rt, "add scope to "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.AddScope(w.ctx, c, set, t, sc)
				return nil, "", err
			})
		},
		"remove scope": func(rt *rapid.T) {
			t, set := w.drawTarget(rt)
			scope := ""
			if tok := w.token(t); tok != nil && len(tok.Scopes) > 0 && rapid.Bool().Draw(rt, "one scope") {
				scope = tok.Scopes[rapid.IntRange(0, len(tok.Scopes)-1).Draw(rt, "scope")].ID
			}
			w.act(rt, "remove scopes of "+t, func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.RemoveScope(w.ctx, c, set, t, scope)
				return nil, "", err
			})
		},
		"change role": func(rt *rapid.T) {
			u := w.drawUser(rt)
			role := drawRole(rt)
			w.act(rt, "make "+u.Email+" "+string(role), func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.UpdateMember(w.ctx, c, u.ID, service.MemberUpdate{Role: role})
				return nil, "", err
			})
		},
		"suspend": func(rt *rapid.T) {
			u := w.drawUser(rt)
			suspend := rapid.Bool().Draw(rt, "suspend")
			w.act(rt, fmt.Sprintf("suspend %s: %t", u.Email, suspend), func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.SuspendMember(w.ctx, c, u.ID, suspend)
				return nil, "", err
			})
		},
		"remove member": func(rt *rapid.T) {
			u := w.drawUser(rt)
			w.act(rt, "remove "+u.Email, func(c *service.Caller) (*keyward.Token, string, error) {
				_, _, err := w.svc.RemoveMember(w.ctx, c, u.ID)
				return nil, "", err
			})
		},
		"invite": func(rt *rapid.T) {
			email := rapid.SampledFrom(append(emails(w.users), "newcomer@example.com")).Draw(rt, "email")
			role := drawRole(rt)
			w.act(rt, "invite "+email+" as "+string(role), func(c *service.Caller) (*keyward.Token, string, error) {
				_, err := w.svc.AddMember(w.ctx, c, service.MemberRequest{Email: email, Role: role})
				return nil, "", err
			})
		},
		"time passes": func(rt *rapid.T) {
			w.clock.Add(rapid.SampledFrom([]time.Duration{10 * time.Minute, 2 * time.Hour, 40 * 24 * time.Hour}).Draw(rt, "time"))
		},
		"": func(rt *rapid.T) { w.checkFamilies(rt, w.state(rt)) },
	}
}

// drawUser draws one of the world's people by index: the draw log shows
// what is drawn, and a user holds a password hash.
func (w *world) drawUser(rt *rapid.T) *keyward.User {
	return w.users[rapid.IntRange(0, len(w.users)-1).Draw(rt, "user")]
}

func emails(us []*keyward.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.Email
	}
	return out
}

func drawRole(rt *rapid.T) keyward.Role {
	return rapid.SampledFrom([]keyward.Role{keyward.RoleOwner, keyward.RoleAdmin, keyward.RoleMember, keyward.RoleViewer}).Draw(rt, "role")
}

func drawScope(rt *rapid.T) service.ScopeRequest {
	return service.ScopeRequest{
		EntityType: rapid.SampledFrom([]string{"monitor", "board"}).Draw(rt, "entity type"),
		EntityID:   rapid.SampledFrom([]string{"*", "m1", "m2"}).Draw(rt, "entity id"),
		Operations: rapid.SliceOfNDistinct(rapid.SampledFrom(keyward.Operations), 1, 3, rapid.ID[string]).Draw(rt, "operations"),
	}
}

// drawTokenRequest draws a request to mint a token of set: any kind of
// the set, role, permission subset, scopes, allowlist, expiry and rate
// limit, valid or not.
func (w *world) drawTokenRequest(rt *rapid.T, set service.TokenSet) service.TokenRequest {
	req := service.TokenRequest{Name: "minted"}
	if set == service.OrgKeys {
		req.Kind = rapid.SampledFrom([]keyward.Kind{keyward.KindAPIKey, keyward.KindAgent, keyward.KindProbe}).Draw(rt, "kind")
		if req.Kind == keyward.KindAPIKey {
			req.Role = rapid.SampledFrom([]keyward.Role{"", keyward.RoleOwner, keyward.RoleAdmin, keyward.RoleMember, keyward.RoleViewer}).Draw(rt, "key role")
		}
		if req.Kind == keyward.KindAgent {
			req.AgentID = "agent-1"
		}
	}
	if rapid.Bool().Draw(rt, "subset") {
		perms := w.svc.Permissions().All()
		req.Permissions = rapid.SliceOfNDistinct(rapid.SampledFrom([]string(perms)), 0, 4, rapid.ID[string]).Draw(rt, "permissions")
	}
	for range rapid.IntRange(0, 2).Draw(rt, "scopes") {
		req.Scopes = append(req.Scopes, drawScope(rt))
	}
	req.AllowedCIDRs = rapid.SampledFrom([][]string{nil, {"127.0.0.0/8"}, {"127.0.0.1/32"}, {"10.0.0.0/8"}, {"10.1.0.0/16"}}).Draw(rt, "allowlist")
	req.ExpiresIn = rapid.SampledFrom([]string{"", "1h", "30d", "365d"}).Draw(rt, "expires in")
	req.RateLimit = rapid.SampledFrom([]int{0, 10, 1000, 1000000}).Draw(rt, "rate limit")
	return req
}

func (w *world) drawRegenerate(rt *rapid.T) service.RegenerateRequest {
	return rapid.SampledFrom([]service.RegenerateRequest{{}, {ExpiresIn: "1h"}, {ExpiresIn: "3650d"}, {NoExpiry: true}}).Draw(rt, "validity")
}

// drawTarget draws a token of either org and the set to address it in:
// usually the set that holds its kind, sometimes the other.
func (w *world) drawTarget(rt *rapid.T) (string, service.TokenSet) {
	var toks []*keyward.Token
	for _, s := range w.state(rt) {
		toks = append(toks, s.tokens...)
	}
	t := toks[rapid.IntRange(0, len(toks)-1).Draw(rt, "target")]
	set := service.Personal
	if !t.Kind.Personal() {
		set = service.OrgKeys
	}
	if rapid.IntRange(0, 4).Draw(rt, "other set") == 0 {
		set = 1 - set
	}
	return t.ID, set
}

// token reads a token as stored, nil if it is gone.
func (w *world) token(id string) *keyward.Token {
	var t *keyward.Token
	w.store.View(w.ctx, func(tx service.Tx) error {
		t, _ = tx.FindTokenByID(w.ctx, id)
		return nil
	})
	return t
}

// powers authenticates every credential held, newest first, and returns
// the power of each that verifies, by index. (Presenting a rotated-out
// token after its overlap revokes its family, the successor just yielded
// too: that only ever takes power away, and newest first the successor
// is seen before.)
func (w *world) powers(rt *rapid.T) map[int]held {
	out := map[int]held{}
	for i := len(w.creds) - 1; i >= 0; i-- {
		cr := w.creds[i]
		c, err := w.svc.Authenticate(w.ctx, cr.secret, cr.addr, "property")
		switch code(err) {
		case "":
			out[i] = held{caller: c, power: w.svc.CallerPower(c)}
		case keyward.EUNAUTHORIZED, keyward.EFORBIDDEN, keyward.EIPNOTALLOWED:
		default:
			rt.Fatalf("authenticating %s: %v", cr.name, err)
		}
	}
	return out
}

// held is a credential that verifies: its caller and its power.
type held struct {
	caller *service.Caller
	power  keyward.Power
}

// act runs one action by a live credential drawn at random and checks the
// properties around it.
func (w *world) act(rt *rapid.T, what string, do func(*service.Caller) (*keyward.Token, string, error)) {
	w.step++
	before := w.powers(rt)
	live := make([]int, 0, len(before))
	for i := range before {
		live = append(live, i)
	}
	if len(live) == 0 {
		return
	}
	slices.Sort(live)
	ai := rapid.SampledFrom(live).Draw(rt, "caller")
	actor := before[ai]
	name := fmt.Sprintf("step %d: %s by %s", w.step, what, w.creds[ai].name)

	s0 := w.state(rt)
	tok, secret, err := do(actor.caller)
	s1 := w.state(rt)

	if err != nil {
		switch code(err) {
		case keyward.EINVALID, keyward.EFORBIDDEN, keyward.EPOWER, keyward.ECONFLICT, keyward.ENOTFOUND:
		default:
			rt.Fatalf("%s: unexpected error %v", name, err)
		}
		for i := range s0 {
			if d := s0[i].diff(s1[i]); d != "" {
				rt.Fatalf("%s was refused (%s) but changed %s: %s", name, code(err), s0[i].slug, d)
			}
		}
	} else {
		for i := range s0 {
			if s0[i].id == actor.caller.Org.ID {
				continue
			}
			if d := s0[i].diff(s1[i]); d != "" {
				rt.Fatalf("%s, a credential of another org, changed %s: %s", name, s0[i].slug, d)
			}
		}
	}

	if secret != "" {
		addr := loopback
		if len(tok.AllowedCIDRs) > 0 {
			addr = tok.AllowedCIDRs[0].Addr()
		}
		w.creds = append(w.creds, credential{name: fmt.Sprintf("%s %s (step %d)", tok.Kind, tok.ID, w.step), secret: secret, addr: addr})
	}
	after := w.powers(rt)
	for i, h := range after {
		b, ok := before[i]
		if ok && b.power.Shortfall(h.power) == "" {
			continue
		}
		q := h.power
		if ok && b.power.RateLimit == q.RateLimit {
			// A role given sets no rate limit (decision 10): a budget the
			// credential kept is not power the action gave.
			q.RateLimit = actor.power.RateLimit
		}
		if why := actor.power.Shortfall(q); why != "" {
			rt.Fatalf("%s gave %s power its caller lacks: %s", name, w.creds[i].name, why)
		}
	}
	if secret != "" {
		if _, ok := after[len(w.creds)-1]; !ok {
			rt.Fatalf("%s yielded a secret that does not verify from %s", name, w.creds[len(w.creds)-1].addr)
		}
	}
}

// orgState is what the store holds for one org, without what using a
// token changes (its last use) and what reading derives.
type orgState struct {
	id, slug    string
	tokens      []*keyward.Token
	members     []*keyward.Membership
	invitations []*keyward.Invitation
}

func (w *world) state(rt *rapid.T) []orgState {
	out := make([]orgState, len(w.orgs))
	err := w.store.View(w.ctx, func(tx service.Tx) error {
		for i, org := range w.orgs {
			s := orgState{id: org.ID, slug: org.Slug}
			cursor := ""
			for {
				page, next, err := tx.FindTokens(w.ctx, keyward.TokenFilter{OrgID: org.ID, Now: w.clock.Now(), Cursor: cursor, Limit: keyward.MaxPageSize})
				if err != nil {
					return err
				}
				for _, t := range page {
					t.LastUsedAt, t.LastUsedIP, t.Usage = nil, "", nil
					t.State, t.BlockedReason, t.SourceName = "", "", ""
				}
				s.tokens = append(s.tokens, page...)
				if next == "" {
					break
				}
				cursor = next
			}
			var err error
			if s.members, err = tx.FindMemberships(w.ctx, org.ID, "", "", keyward.MaxPageSize); err != nil {
				return err
			}
			if s.invitations, err = tx.FindInvitations(w.ctx, org.ID, "", keyward.MaxPageSize); err != nil {
				return err
			}
			out[i] = s
		}
		return nil
	})
	if err != nil {
		rt.Fatal(err)
	}
	return out
}

// diff names what differs between two states of one org, by id and field
// (never a value: a hash is not for the test's output either), or "".
func (s orgState) diff(o orgState) string {
	byID := map[string]*keyward.Token{}
	for _, t := range o.tokens {
		byID[t.ID] = t
	}
	for _, t := range s.tokens {
		u, ok := byID[t.ID]
		if !ok {
			return "token " + t.ID + " is gone"
		}
		delete(byID, t.ID)
		if f := differentField(t, u); f != "" {
			return "token " + t.ID + " changed its " + f
		}
	}
	for id := range byID {
		return "token " + id + " appeared"
	}
	if !reflect.DeepEqual(s.members, o.members) {
		return "the memberships changed"
	}
	if !reflect.DeepEqual(s.invitations, o.invitations) {
		return "the invitations changed"
	}
	return ""
}

// differentField names the first field in which two tokens differ.
func differentField(a, b *keyward.Token) string {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return va.Type().Field(i).Name
		}
	}
	return ""
}

// checkFamilies checks that no family has more than one head (a token
// not rotated out; deleting the head leaves none) and that a rotated-out
// token's successor, while it is kept, is in its own family.
func (w *world) checkFamilies(rt *rapid.T, states []orgState) {
	for _, s := range states {
		family := map[string]string{}
		heads := map[string]int{}
		for _, t := range s.tokens {
			family[t.ID] = t.FamilyID
			if t.SupersededBy == "" {
				heads[t.FamilyID]++
			}
		}
		for _, t := range s.tokens {
			if t.FamilyID == "" {
				rt.Fatalf("token %s has no family", t.ID)
			}
			if n := heads[t.FamilyID]; n > 1 {
				rt.Fatalf("family %s in %s has %d heads, want at most 1", t.FamilyID, s.slug, n)
			}
			if f, kept := family[t.SupersededBy]; t.SupersededBy != "" && kept && f != t.FamilyID {
				rt.Fatalf("token %s is rotated out by %s, which is not in its family", t.ID, t.SupersededBy)
			}
		}
	}
}
