package cgroups

import "testing"

func TestSystemdPath(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"system.slice:docker:abc", "/system.slice/docker-abc.scope", true},
		{"a-b.slice:p:n", "/a.slice/a-b.slice/p-n.scope", true},
		{"-:p:n", "/p-n.scope", true},
		{":runc:web", "/system.slice/runc-web.scope", true},
		{"x.slice:p:y.slice", "/x.slice/y.slice", true},
		{"user.slice::n", "/user.slice/n.scope", true},
		{"a:b", "", false},
		{"noslice:p:n", "", false},
		{"a--b.slice:p:n", "", false},
		{"system.slice:p:", "", false},
		{"system.slice:p:a/b", "", false},
	} {
		got, err := SystemdPath(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("SystemdPath(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
