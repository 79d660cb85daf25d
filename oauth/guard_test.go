package oauth

import (
	"net/netip"
	"testing"
)

// The guard against server-side request forgery classifies every address
// it may be asked to dial.
func TestNonPublic(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":        "loopback",
		"127.8.9.10":       "loopback",
		"::1":              "loopback",
		"::ffff:127.0.0.1": "loopback",
		"10.0.0.1":         "private",
		"172.16.5.4":       "private",
		"192.168.1.1":      "private",
		"fd00::1":          "private",
		"169.254.169.254":  "link-local",
		"fe80::1":          "link-local",
		"224.0.0.1":        "link-local", // 224.0.0.0/24 is link-local multicast
		"239.1.2.3":        "multicast",
		"ff02::1":          "link-local",
		"0.0.0.0":          "unspecified",
		"::":               "unspecified",
		"0.1.2.3":          "reserved",
		"100.64.0.1":       "reserved",
		"198.18.0.1":       "reserved",
		"255.255.255.255":  "reserved",
		"64:ff9b::a00:1":   "reserved",
		"2002:a00:1::":     "reserved",
		"8.8.8.8":          "",
		"93.184.215.14":    "",
		"2606:4700::1111":  "",
	} {
		if got := nonPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("nonPublic(%s): got %q, want %q", addr, got, want)
		}
	}
}

func TestGuardDial(t *testing.T) {
	refuse := guardDial(false)
	if err := refuse("tcp", "10.1.2.3:443", nil); err == nil || err.Error() != "resolves to 10.1.2.3, a private address; keyward fetches client metadata from public addresses only" {
		t.Errorf("guard on 10.1.2.3: got %v, want the private-address refusal", err)
	}
	if err := refuse("tcp", "8.8.8.8:443", nil); err != nil {
		t.Errorf("guard on 8.8.8.8: got %v, want nil", err)
	}
	if err := guardDial(true)("tcp", "127.0.0.1:443", nil); err != nil {
		t.Errorf("guard with private hosts allowed, on 127.0.0.1: got %v, want nil", err)
	}
}

func TestCheckMetadataURL(t *testing.T) {
	for id, want := range map[string]string{
		"https://client.example.com/oauth/client.json": "",
		"http://client.example.com/client.json":        "is not an https URL",
		"https://client.example.com":                   "has no path",
		"https://u:p@client.example.com/c.json":        "holds user information",
		"https://client.example.com/c.json#x":          "has a fragment",
		"https://client.example.com/a/../c.json":       "has dot segments in its path",
	} {
		err := checkMetadataURL(id)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("checkMetadataURL(%q): got %q, want %q", id, got, want)
		}
	}
}
