package container

import (
	"strings"
	"testing"
)

func TestValidateID(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"web", true},
		{"a-b_c.d+e", true},
		{"0123456789abcdef", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/b", false},
		{"-rf", false},
		{"sp ace", false},
		{"new\nline", false},
		{strings.Repeat("x", 255), true},
		{strings.Repeat("x", 256), false},
	} {
		err := ValidateID(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateID(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
	}
}
