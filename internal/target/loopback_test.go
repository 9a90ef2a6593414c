package target

import "testing"

// A name that merely starts like a loopback address resolves wherever its
// DNS says; only an address or the name localhost itself gets the
// plain-HTTP fallback (and, with it, credentials in the clear).
func TestIsLoopbackByAddressNotPrefix(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"127.example.com", false},
		{"127.example.com:5000", false},
		{"127.0.0.1.nip.io", false},
		{"127.0.0.1.nip.io:5000", false},
		{"localhost.example.com", false},
		{"localhost.example.com:5000", false},
		{"localhostx", false},
		{"[::2]:5000", false},
		{"127.0.0.256", false},
		{"[::1]", true},
		{"[::1]:5000", true},
		{"::1", true},
		{"127.0.0.2", true},
		{"127.0.0.2:5000", true},
		{"127.255.255.254", true},
		{"[::ffff:127.0.0.1]:5000", true},
		{"localhost", true},
		{"LOCALHOST", true},
		{"LocalHost:5000", true},
	} {
		if got := IsLoopback(tc.host); got != tc.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}
