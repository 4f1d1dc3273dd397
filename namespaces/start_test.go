package namespaces

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The lifecycle re-executes ctr-lite (an open file) with its sync pipes as
// extra descriptors: that path is not reachable from the CLI.
func TestStartExecFileWithExtraFilesEnvAndDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	bin, err := os.Open("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	defer bin.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "uts"}, {Type: "pid"}},
		Hostname:   "box",
		ExecFile:   bin,
		Args:       []string{"sh", "-c", `echo "$$ $(hostname) $(pwd) $FOO" >&3`},
		Env:        []string{"FOO=bar"},
		Dir:        "/proc",
		ExtraFiles: []*os.File{w},
	}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	st, err := p.Wait()
	if err != nil || !st.Success() {
		t.Fatalf("wait: %v %v", st, err)
	}
	if got := strings.TrimSpace(string(out)); got != "1 box /proc bar" {
		t.Errorf("child wrote %q, want \"1 box /proc bar\"", got)
	}
}

// A child that fails after the fork is reported by step and reaped, the
// intermediate process of a PID namespace too.
func TestStartFailureLeavesNoChild(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	_, err := Start(&Config{Namespaces: []specs.LinuxNamespace{{Type: "pid"}}, Path: "/nonexistent/prog"}, nil)
	if err == nil || !strings.Contains(err.Error(), `execve "/nonexistent/prog"`) || !errors.Is(err, unix.ENOENT) {
		t.Fatalf("error = %v, want the execve step with ENOENT", err)
	}
	if _, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Errorf("wait4(-1) = %v, want ECHILD: a child was left", err)
	}
}
