package container

import (
	"regexp"
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

// validID is the regexp runc's rule was written as, by hand: the two
// agree on every input.
var validIDRegexp = regexp.MustCompile(`^[A-Za-z0-9_+.][A-Za-z0-9_+.-]*$`)

var validIDSeeds = []string{"", "a", "-", "-a", "a-", ".", "..", "a.b", "a+b_c", "A-Z", "é", "a b", "a\n", "\na",
	"a/b", "a:b", "a@b", "a\x00", "0", "_", "+", "a$", "[a]", "a*", strings.Repeat("x", 300)}

func TestValidIDMatchesRegexp(t *testing.T) {
	for _, id := range validIDSeeds {
		if got, want := validID(id), validIDRegexp.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, the regexp says %v", id, got, want)
		}
	}
}

func FuzzValidID(f *testing.F) {
	for _, s := range validIDSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if got, want := validID(id), validIDRegexp.MatchString(id); got != want {
			t.Errorf("validID(%q) = %v, the regexp says %v", id, got, want)
		}
	})
}
