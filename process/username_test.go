package process

import "testing"

func TestUserName(t *testing.T) {
	root := etcRoot(t, "root:x:0:0:root:/root:/bin/sh\nbroken:x:x1:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nalice2:x:1000:1000::/:/bin/sh\n", "")
	for _, tt := range []struct {
		uid  uint32
		name string
		ok   bool
	}{{0, "root", true}, {1000, "alice", true}, {1, "", false}, {4294967295, "", false}} {
		name, ok, err := UserName(root, tt.uid)
		if err != nil || name != tt.name || ok != tt.ok {
			t.Errorf("UserName(%d) = %q, %v, %v; want %q, %v", tt.uid, name, ok, err, tt.name, tt.ok)
		}
	}
	if name, ok, err := UserName(t.TempDir(), 0); err != nil || ok || name != "" {
		t.Errorf("UserName without /etc/passwd = %q, %v, %v; want not found", name, ok, err)
	}
}
