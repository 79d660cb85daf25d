package service_test

import (
	"reflect"
	"testing"

	"github.com/keyward/keyward"
	"github.com/keyward/keyward/service"
)

// inviteFields is what an invitation shows the inviter, without the token.
func inviteFields(i *service.Invite) []string {
	var out []string
	v := reflect.ValueOf(*i.Invitation)
	for n := range v.NumField() {
		if !v.Field(n).IsZero() {
			out = append(out, v.Type().Field(n).Name)
		}
	}
	return out
}

// Rule 3: an org adds a person by invitation, whether or not an account
// has the address; nobody but the account's owner acts on the account.
func TestInvitations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		owner := e.auth(e.boot.Secret)
		const pw = "a long enough password"

		// An account of another org, with no password yet (made by the
		// operator), and one with a password.
		other, err := e.svc.AdminCreateOrg(e.ctx, "Globex", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AdminCreateUser(e.ctx, "nopw@example.com", "No Password", "", other.Slug, keyward.RoleOwner); err != nil {
			t.Fatal(err)
		}
		alice, err := e.svc.AdminCreateUser(e.ctx, "alice@example.com", "Alice Private", pw, other.Slug, keyward.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}

		invNew, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "new@example.com", Name: "New", Role: keyward.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		invNoPW, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "nopw@example.com", Name: "New", Role: keyward.RoleMember})
		if err != nil {
			t.Fatal(err)
		}
		invAlice, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "ALICE@example.com", Name: "New", Role: keyward.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		// The same fields for an address with an account and one without,
		// and nothing of the account.
		if a, b := inviteFields(invNew), inviteFields(invAlice); !reflect.DeepEqual(a, b) || !reflect.DeepEqual(a, inviteFields(invNoPW)) {
			t.Errorf("invitation fields differ: new address %v, existing account %v", a, b)
		}
		if invAlice.Name != "New" || invAlice.Email != "alice@example.com" || invAlice.Token == "" {
			t.Errorf("invitation for an existing account: got %+v", invAlice.Invitation)
		}
		// Nobody joined yet: the org sees them pending.
		if _, err := e.svc.FindMember(e.ctx, owner, "alice@example.com"); code(err) != keyward.ENOTFOUND {
			t.Errorf("FindMember before acceptance: got %v, want not found", err)
		}
		pending, _, err := e.svc.FindInvitations(e.ctx, owner, "", 0)
		if err != nil || len(pending) != 3 {
			t.Fatalf("FindInvitations: got %d, %v; want 3", len(pending), err)
		}

		// A link never sets the password of an existing account, with or
		// without one.
		for _, inv := range []*service.Invite{invNoPW, invAlice} {
			if _, err := e.svc.AcceptInvitationNewAccount(e.ctx, inv.Token, "Mallory", pw+"x", "", ""); code(err) != keyward.ECONFLICT {
				t.Errorf("new account for %s: got %v, want conflict", inv.Email, err)
			}
		}
		if _, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "nopw@example.com", Password: pw + "x"}); code(err) != keyward.EUNAUTHORIZED {
			t.Errorf("sign-in with the password an inviter chose: got %v, want unauthorized", err)
		}
		// Only the invited account accepts.
		mallory, err := e.svc.AdminCreateUser(e.ctx, "mallory@example.com", "", pw, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AcceptInvitation(e.ctx, invAlice.Token, mallory, "", ""); code(err) != keyward.EFORBIDDEN {
			t.Errorf("accept as another account: got %v, want forbidden", err)
		}
		m, err := e.svc.AcceptInvitation(e.ctx, invAlice.Token, alice, "", "")
		if err != nil || m.Role != keyward.RoleAdmin || m.User.Name != "Alice Private" {
			t.Fatalf("accept as the invited account: got %+v, %v", m, err)
		}
		if _, err := e.svc.AcceptInvitation(e.ctx, invAlice.Token, alice, "", ""); code(err) != keyward.ENOTFOUND {
			t.Errorf("accept a used invitation: got %v, want not found", err)
		}
		if _, err := e.svc.FindMember(e.ctx, owner, "alice@example.com"); err != nil {
			t.Errorf("FindMember after acceptance: %v", err)
		}
		// A new address makes its account with its own password.
		if _, err := e.svc.AcceptInvitationNewAccount(e.ctx, invNew.Token, "", "short", "", ""); code(err) != keyward.EINVALID {
			t.Errorf("new account with a short password: got %v, want invalid", err)
		}
		if m, err := e.svc.AcceptInvitationNewAccount(e.ctx, invNew.Token, "", pw, "", ""); err != nil || m.User.Name != "New" || m.Role != keyward.RoleMember {
			t.Fatalf("new account: got %+v, %v", m, err)
		}
		if _, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "new@example.com", Password: pw}); err != nil {
			t.Errorf("sign-in with the chosen password: %v", err)
		}
		// Inviting a member again conflicts; inviting a pending address
		// again replaces its link.
		if _, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "alice@example.com"}); code(err) != keyward.ECONFLICT {
			t.Errorf("invite a member: got %v, want conflict", err)
		}
		again, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "nopw@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Invitation(e.ctx, invNoPW.Token); code(err) != keyward.ENOTFOUND {
			t.Errorf("a replaced link: got %v, want not found", err)
		}
		// Cancel: an admin cannot cancel an owner's invitation.
		ownerInv, err := e.svc.AddMember(e.ctx, owner, service.MemberRequest{Email: "o2@example.com", Role: keyward.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		admin := e.auth(e.member("admin@example.com", e.boot.Org.ID, keyward.RoleAdmin))
		if _, err := e.svc.CancelInvitation(e.ctx, admin, ownerInv.ID); code(err) != keyward.EFORBIDDEN {
			t.Errorf("admin cancels an owner invitation: got %v, want forbidden", err)
		}
		if _, err := e.svc.CancelInvitation(e.ctx, admin, again.ID); err != nil {
			t.Errorf("admin cancels a member invitation: %v", err)
		}
		if _, err := e.svc.Invitation(e.ctx, again.Token); code(err) != keyward.ENOTFOUND {
			t.Errorf("a cancelled link: got %v, want not found", err)
		}
		// Another org's caller sees no invitation of this org.
		g := e.auth(e.member("g@example.com", other.ID, keyward.RoleOwner))
		if _, err := e.svc.CancelInvitation(e.ctx, g, ownerInv.ID); code(err) != keyward.ENOTFOUND {
			t.Errorf("another org cancels: got %v, want not found", err)
		}
		// An expired link is dead.
		e.clock.Add(service.InvitationTTL)
		if _, err := e.svc.AcceptInvitationNewAccount(e.ctx, ownerInv.Token, "", pw, "", ""); code(err) != keyward.ENOTFOUND {
			t.Errorf("an expired invitation: got %v, want not found", err)
		}
	})
}

// The operator alone makes set-password links.
func TestAdminPasswordLink(t *testing.T) {
	forEachBackend(t, func(t *testing.T, e *env) {
		if _, err := e.svc.AdminCreateUser(e.ctx, "new@example.com", "", "", e.boot.Org.ID, keyward.RoleMember); err != nil {
			t.Fatal(err)
		}
		link, err := e.svc.AdminPasswordLink(e.ctx, "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if u, err := e.svc.PasswordLinkUser(e.ctx, link); err != nil || u.Email != "new@example.com" {
			t.Fatalf("PasswordLinkUser: got %v, %v", u, err)
		}
		if _, err := e.svc.SetPassword(e.ctx, link, "short"); code(err) != keyward.EINVALID {
			t.Errorf("SetPassword with a short password: got %v, want %s", err, keyward.EINVALID)
		}
		const pw = "a long enough password"
		if _, err := e.svc.SetPassword(e.ctx, link, pw); err != nil {
			t.Fatalf("SetPassword: %v", err)
		}
		if _, err := e.svc.SetPassword(e.ctx, link, pw+"!"); code(err) != keyward.ENOTFOUND {
			t.Errorf("SetPassword with a used link: got %v, want %s", err, keyward.ENOTFOUND)
		}
		if _, err := e.svc.SignIn(e.ctx, service.SignInRequest{Email: "new@example.com", Password: pw}); err != nil {
			t.Fatalf("SignIn with the set password: %v", err)
		}
		if _, err := e.svc.AdminPasswordLink(e.ctx, "nobody@example.com"); code(err) != keyward.ENOTFOUND {
			t.Errorf("link for an unknown email: got %v, want not found", err)
		}
		late, err := e.svc.AdminPasswordLink(e.ctx, "new@example.com")
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Add(service.PasswordLinkTTL)
		if _, err := e.svc.SetPassword(e.ctx, late, pw); code(err) != keyward.ENOTFOUND {
			t.Errorf("SetPassword with an expired link: got %v, want %s", err, keyward.ENOTFOUND)
		}
	})
}
