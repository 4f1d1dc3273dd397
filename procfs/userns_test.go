package procfs

import "testing"

func TestUIDMapInUserNS(t *testing.T) {
	for _, tt := range []struct {
		uidMap string
		want   bool
	}{
		{"         0          0 4294967295\n", false},
		{"0 0 4294967295", false},
		{"         0       1000          1\n", true},
		{"0 100000 65536\n1 200000 1\n", true},
		{"\n", true},
		{"0 0\n", false},
		{"x 0 4294967295\n", false},
		{"0 0 4294967294\n", true},
	} {
		if got := uidMapInUserNS([]byte(tt.uidMap)); got != tt.want {
			t.Errorf("uidMapInUserNS(%q) = %v, want %v", tt.uidMap, got, tt.want)
		}
	}
}
