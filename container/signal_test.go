package container

import (
	"os"
	"os/exec"
	"os/signal"
	"testing"
	"time"

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

// ExitCode: the program's status, 128+N for a signal N, 255 for none.
func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -TERM $$", 128 + int(unix.SIGTERM)},
		{"kill -KILL $$", 128 + int(unix.SIGKILL)},
	} {
		cmd := exec.Command("/bin/sh", "-c", tc.script)
		_ = cmd.Run()
		if got := ExitCode(cmd.ProcessState); got != tc.want {
			t.Errorf("%q: ExitCode = %d, want %d", tc.script, got, tc.want)
		}
	}
	if got := ExitCode(nil); got != 255 {
		t.Errorf("ExitCode(nil) = %d, want 255", got)
	}
}

// The signals caught for forwarding are caught once wait returns, and
// none that must stay with the runtime is among them.
func TestCatchSignals(t *testing.T) {
	for _, s := range ForwardedSignals {
		switch s {
		case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE, unix.SIGKILL, unix.SIGSTOP:
			t.Errorf("%v is forwarded", s)
		}
	}
	c := catchSignals()
	c.wait()
	defer signal.Stop(c.ch)
	if err := unix.Kill(os.Getpid(), unix.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-c.ch:
		if s != unix.SIGUSR2 {
			t.Errorf("caught %v, want SIGUSR2", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR2 not caught")
	}
}
