// Package integration drives the built ctr-lite binary through its CLI,
// as root, against the real kernel, and checks what the kernel shows.
//
// The binary is built once by TestMain (or taken from $CTR_LITE_BIN, as in
// the VM, where there is no Go toolchain). Each test that needs a root
// filesystem gets a fresh busybox one from testdata/mkrootfs.sh.
package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

var binary string // path of the ctr-lite binary under test

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	if b := os.Getenv("CTR_LITE_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		binary = abs
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "ctr-lite-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "ctr-lite")
	build := exec.Command("go", "build", "-trimpath", "-o", binary+".link", "../cmd/ctr-lite")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build ctr-lite:", err)
		return 1
	}
	// Installed as any install is, with write(2): the linker's mmap'ed
	// output sits in the page cache in 4 KiB folios and starts 0.2-0.3 ms
	// slower (see the Makefile's build), which the benchmarks would count.
	exe, err := os.ReadFile(binary + ".link")
	if err == nil {
		err = os.WriteFile(binary, exe, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "install ctr-lite:", err)
		return 1
	}
	return m.Run()
}

// result is what one ctr-lite invocation did.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// ctrLite runs the binary with args and returns its output and exit status.
func ctrLite(t *testing.T, args ...string) result {
	t.Helper()
	return ctrLiteIn(t, nil, args...)
}

// ctrLiteIn is ctrLite with stdin.
func ctrLiteIn(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	default:
		t.Fatalf("run %v: %v", args, err)
	}
	return r
}

// mustCtrLite runs ctr-lite and fails the test unless it exits 0.
func mustCtrLite(t *testing.T, args ...string) result {
	t.Helper()
	r := ctrLite(t, args...)
	if r.code != 0 {
		t.Fatalf("ctr-lite %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// wantFail runs ctr-lite, expects a non-zero exit and a one-line error
// that contains each of want.
func wantFail(t *testing.T, args []string, want ...string) result {
	t.Helper()
	r := ctrLite(t, args...)
	if r.code == 0 {
		t.Fatalf("ctr-lite %s succeeded, want failure:\n%s", strings.Join(args, " "), r)
	}
	msg := strings.TrimSpace(r.stderr)
	if strings.Count(msg, "\n") != 0 {
		t.Errorf("error is not one line:\n%s", msg)
	}
	if !strings.HasPrefix(msg, "ctr-lite: ") {
		t.Errorf("error does not start with \"ctr-lite: \": %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
	return r
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// newRootfs makes a fresh busybox root filesystem for one test.
func newRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	script, err := filepath.Abs("../testdata/mkrootfs.sh")
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("CTR_LITE_TESTDATA"); p != "" {
		script = filepath.Join(p, "mkrootfs.sh")
	}
	out, err := exec.Command("sh", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("mkrootfs: %v\n%s", err, out)
	}
	return dir
}

// mountsUnder lists the mount points in this process's mount namespace at
// or below dir: a test uses it to prove nothing was left mounted.
func mountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			found = append(found, f[4])
		}
	}
	return found
}

func inVM() bool { return os.Getenv("CTR_VM") == "1" }
