package container

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want unix.Signal
		ok   bool
	}{
		{"9", unix.SIGKILL, true},
		{"15", unix.SIGTERM, true},
		{"KILL", unix.SIGKILL, true},
		{"SIGKILL", unix.SIGKILL, true},
		{"sigterm", unix.SIGTERM, true},
		{"term", unix.SIGTERM, true},
		{"HUP", unix.SIGHUP, true},
		{"USR1", unix.SIGUSR1, true},
		{"RTMIN", 34, true},
		{"RTMIN+3", 37, true},
		{"SIGRTMAX-1", 63, true},
		{"RTMAX+1", 0, false},
		{"0", 0, true},
		{"00", 0, true},
		{"64", 64, true},
		{"65", 0, false},
		{"-9", 0, false},
		{"FOO", 0, false},
		{"SIG", 0, false},
		{"", 0, false},
	} {
		got, err := ParseSignal(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzParseSignal: a signal either parses to 0..64 or is an error.
func FuzzParseSignal(f *testing.F) {
	for _, s := range []string{"0", "9", "-9", "65", "KILL", "sigkill", "SIG", "", "RTMIN+30",
		"RTMIN+31", "RTMAX-30", "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN++1", "RTMIN+-1",
		"9999999999999999999999", "SIGRTMIN+0", "sigrtmax", "ＫＩＬＬ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sig, err := ParseSignal(s)
		if err == nil && (sig < 0 || sig > sigRTMax) {
			t.Fatalf("ParseSignal(%q) = %d", s, sig)
		}
	})
}
