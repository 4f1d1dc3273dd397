package program

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// errText is an error's text, "" for none.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestLookPathIsOsExecs: the same path and error text as os/exec.LookPath.
func TestLookPathIsOsExecs(t *testing.T) {
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{"tool": 0o755, "noexec": 0o644} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, tt := range []struct{ path, file string }{
		{dir, "tool"},
		{dir, "noexec"},
		{dir, "adir"},
		{dir, "missing"},
		{"", "tool"},
		{".", "tool"},
		{"/nonexistent:" + dir, "tool"},
		{dir, ""},
		{dir, "."},
		{dir, ".."},
		{dir, "./tool"},
		{dir, dir + "/noexec"},
		{dir, dir + "/adir"},
		{dir, "/bin/sh"},
		{"/usr/bin:/bin", "sh"},
	} {
		t.Setenv("PATH", tt.path)
		got, gerr := LookPath(tt.file)
		want, werr := exec.LookPath(tt.file)
		if got != want || errText(gerr) != errText(werr) {
			t.Errorf("PATH=%q LookPath(%q) = %q, %v; os/exec: %q, %v", tt.path, tt.file, got, gerr, want, werr)
		}
		if errors.Is(werr, exec.ErrNotFound) != errors.Is(gerr, ErrNotFound) || errors.Is(werr, exec.ErrDot) != errors.Is(gerr, ErrDot) {
			t.Errorf("PATH=%q LookPath(%q): error kinds differ: %v, os/exec %v", tt.path, tt.file, gerr, werr)
		}
	}
}

// TestRunIsOsExecs: the output, error text and exit state of a run are
// os/exec's, for each way cmd/ and the packages run a program.
func TestRunIsOsExecs(t *testing.T) {
	for _, tt := range []struct {
		name  string
		argv  []string
		stdin string
		how   string // output, combined, run
	}{
		{"output", []string{"sh", "-c", "echo out; echo err >&2"}, "", "output"},
		{"output fails", []string{"sh", "-c", "echo out; echo err >&2; exit 3"}, "", "output"},
		{"combined interleaved", []string{"sh", "-c", "echo 1; echo 2 >&2; echo 3"}, "", "combined"},
		{"combined fails", []string{"sh", "-c", "echo no >&2; exit 1"}, "", "combined"},
		{"stdin read", []string{"sh", "-c", "cat; echo done"}, "state json\n", "combined"},
		{"stdin unread", []string{"true"}, strings.Repeat("x", 1<<20), "combined"},
		{"killed", []string{"sh", "-c", "kill -9 $$"}, "", "run"},
		{"not found", []string{"no-such-program-here"}, "", "run"},
		{"env", []string{"sh", "-c", "echo $PROGRAM_TEST_VAR"}, "", "output"},
		{"not executable", []string{"/etc/hostname"}, "", "run"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PROGRAM_TEST_VAR", "inherited")
			ours, theirs := Command(tt.argv[0], tt.argv[1:]...), exec.Command(tt.argv[0], tt.argv[1:]...)
			if tt.stdin != "" {
				ours.Stdin, theirs.Stdin = strings.NewReader(tt.stdin), strings.NewReader(tt.stdin)
			}
			var got, want []byte
			var gerr, werr error
			switch tt.how {
			case "output":
				got, gerr = ours.Output()
				want, werr = theirs.Output()
				var ge *ExitError
				var we *exec.ExitError
				if errors.As(gerr, &ge) != errors.As(werr, &we) || (ge != nil && string(ge.Stderr) != string(we.Stderr)) {
					t.Errorf("ExitError %#v, os/exec %#v", gerr, werr)
				}
			case "combined":
				got, gerr = ours.CombinedOutput()
				want, werr = theirs.CombinedOutput()
			case "run":
				gerr, werr = ours.Run(), theirs.Run()
			}
			if !bytes.Equal(got, want) || errText(gerr) != errText(werr) {
				t.Errorf("got %q, %v; os/exec %q, %v", got, gerr, want, werr)
			}
		})
	}
}

// TestTimeoutKills: a program that outlives Timeout is killed and Wait
// says so; one that exits in time is not marked.
func TestTimeoutKills(t *testing.T) {
	c := Command("sleep", "10")
	c.Timeout = 50 * time.Millisecond
	start := time.Now()
	err := c.Run()
	if !c.TimedOut || errText(err) != "signal: killed" || time.Since(start) > 5*time.Second {
		t.Fatalf("sleep 10 with a 50ms timeout: err %v, TimedOut %v after %v", err, c.TimedOut, time.Since(start))
	}
	c = Command("true")
	c.Timeout = 10 * time.Second
	if err := c.Run(); err != nil || c.TimedOut {
		t.Fatalf("true with a 10s timeout: err %v, TimedOut %v", err, c.TimedOut)
	}
}

// TestStartTwiceAndNoCommand: misuse errors as os/exec words them.
func TestStartTwiceAndNoCommand(t *testing.T) {
	c := Command("true")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); errText(err) != "exec: already started" {
		t.Errorf("second Start: %v", err)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if err := (&Cmd{}).Start(); errText(err) != errText((&exec.Cmd{}).Start()) {
		t.Errorf("empty Cmd: %v, os/exec %v", err, (&exec.Cmd{}).Start())
	}
}
