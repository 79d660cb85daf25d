package keyward_test

import (
	"testing"

	"github.com/keyward/keyward"
)

func TestRolePermissions(t *testing.T) {
	m, err := keyward.NewPermissionModel([]string{"monitors:read", "monitors:write", "agent:heartbeat", "probe:report"})
	if err != nil {
		t.Fatal(err)
	}
	// The table of SPEC section 2.
	tests := []struct {
		perm string
		want map[keyward.Role]bool
	}{
		{"tokens:read", map[keyward.Role]bool{"owner": true, "admin": true, "member": true, "viewer": true}},
		{"tokens:write", map[keyward.Role]bool{"owner": true, "admin": true, "member": true, "viewer": true}},
		{"members:read", map[keyward.Role]bool{"owner": true, "admin": true, "member": true, "viewer": true}},
		{"members:manage", map[keyward.Role]bool{"owner": true, "admin": true}},
		{"apikeys:manage", map[keyward.Role]bool{"owner": true, "admin": true}},
		{"audit:read", map[keyward.Role]bool{"owner": true, "admin": true}},
		{"tokens:verify", map[keyward.Role]bool{"owner": true, "admin": true}},
		{"policy:manage", map[keyward.Role]bool{"owner": true}},
		{"monitors:read", map[keyward.Role]bool{"owner": true, "admin": true, "member": true, "viewer": true}},
		{"monitors:write", map[keyward.Role]bool{"owner": true, "admin": true, "member": true}},
		{"agent:heartbeat", map[keyward.Role]bool{}},
	}
	for _, tt := range tests {
		for _, r := range keyward.Roles {
			if got := m.ForRole(r).Has(tt.perm); got != tt.want[r] {
				t.Errorf("%s has %s: got %v, want %v", r, tt.perm, got, tt.want[r])
			}
		}
	}
	if got := m.ForKind(keyward.KindAgent, ""); len(got) != 1 || got[0] != "agent:heartbeat" {
		t.Errorf("agent permissions: got %v, want [agent:heartbeat]", got)
	}
	if got := m.ForKind(keyward.KindProbe, keyward.RoleOwner); len(got) != 1 || got[0] != "probe:report" {
		t.Errorf("probe permissions: got %v, want [probe:report]", got)
	}
	for _, bad := range []string{"Monitors:read", "monitors", "tokens:read", ":x"} {
		if _, err := keyward.NewPermissionModel([]string{bad}); err == nil {
			t.Errorf("NewPermissionModel(%q): got nil error, want one", bad)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]string{"90d": "2160h0m0s", "12h": "12h0m0s", "30m": "30m0s", "1h30m": "1h30m0s"} {
		d, err := keyward.ParseDuration(in)
		if err != nil || d.String() != want {
			t.Errorf("ParseDuration(%q): got %v, %v, want %s", in, d, err, want)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "ten days", "-5m"} {
		if _, err := keyward.ParseDuration(bad); keyward.ErrorCode(err) != keyward.EINVALID {
			t.Errorf("ParseDuration(%q): got %v, want invalid_request", bad, err)
		}
	}
}
