package step

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

func TestRunnerExplainsInOrderAndStopsAtFirstError(t *testing.T) {
	var out bytes.Buffer
	var ran []string
	boom := errors.New("boom")
	steps := []Step{
		{Op: "unshare", Args: "CLONE_NEWNS", Why: "private mounts", Do: func() error { ran = append(ran, "a"); return nil }},
		{Op: "write /x", Args: "1", ReadBack: func() (string, error) { return "1", nil }, Do: func() error { ran = append(ran, "b"); return nil }},
		{Op: "mount", Args: "proc", Do: func() error { return boom }},
		{Op: "never", Do: func() error { ran = append(ran, "c"); return nil }},
	}
	r := &Runner{Explain: &out, Prefix: "t"}
	err := r.Run(steps...)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if got := err.Error(); got != "mount proc: boom" {
		t.Errorf("error text = %q", got)
	}
	if strings.Join(ran, ",") != "a,b" {
		t.Errorf("ran %v", ran)
	}
	want := "explain[t]: unshare(CLONE_NEWNS)  # private mounts\n" +
		"explain[t]: write /x(1)\n" +
		"explain[t]:     -> 1\n" +
		"explain[t]: mount(proc)\n"
	if out.String() != want {
		t.Errorf("explain output:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestRunnerSilentWithoutExplain(t *testing.T) {
	var r *Runner
	if err := r.Run(Step{Op: "x", Do: func() error { return nil }}); err != nil {
		t.Fatal(err)
	}
	(&Runner{}).Note("nothing")
}

// A step's error names what failed once: the step's op and args, unless
// the error already names the call and the file.
func TestErrorNamesTheObjectOnce(t *testing.T) {
	many := "/sys/fs/cgroup/{blkio,cpu,memory}/x"
	denied := &fs.PathError{Op: "mkdir", Path: "/sys/fs/cgroup/memory/x", Err: fs.ErrPermission}
	for _, tc := range []struct {
		name string
		s    Step
		err  error
		want string
	}{
		{"plain", Step{Op: "mount", Args: "proc on /proc"}, errors.New("boom"), "mount proc on /proc: boom"},
		{"no-args", Step{Op: "pivot_root"}, errors.New("boom"), "pivot_root: boom"},
		{"path-error-of-the-op", Step{Op: "mkdir", Args: many}, denied, "mkdir /sys/fs/cgroup/memory/x: permission denied"},
		{"wrapped-path-error-of-the-op", Step{Op: "mkdir", Args: many}, fmt.Errorf("cannot set memory limit: %w", denied),
			"cannot set memory limit: mkdir /sys/fs/cgroup/memory/x: permission denied"},
		{"path-error-of-another-op", Step{Op: "write", Args: "/x: 1"}, &fs.PathError{Op: "open", Path: "/x", Err: fs.ErrNotExist},
			"write /x: 1: open /x: file does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &Error{Step: tc.s, Err: tc.err}
			if got := e.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
			if !errors.Is(e, tc.err) {
				t.Error("does not unwrap to the step's error")
			}
		})
	}
}
