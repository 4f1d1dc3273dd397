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
		{"0", 0, false},
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
