package namespaces

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestCloneStep(t *testing.T) {
	dir, err := os.Open(os.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	for _, tc := range []struct {
		name     string
		fd       *os.File
		op, args string
		flags    uint64
	}{
		{"fork", nil, "clone", "SIGCHLD", 0},
		{"into cgroup", dir, "clone3", "CLONE_INTO_CGROUP, " + dir.Name() + ", exit_signal=SIGCHLD", unix.CLONE_INTO_CGROUP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &starter{c: &Config{CgroupFD: tc.fd}}
			st, ca := s.cloneStep()
			if st.Op != tc.op || st.Args != tc.args {
				t.Errorf("step = %s(%s), want %s(%s)", st.Op, st.Args, tc.op, tc.args)
			}
			if tc.fd == nil {
				if ca != nil {
					t.Errorf("clone args %+v without a cgroup fd", ca)
				}
				return
			}
			if ca == nil || ca.flags != tc.flags || ca.exitSignal != uint64(unix.SIGCHLD) || ca.cgroup != uint64(tc.fd.Fd()) {
				t.Errorf("clone args = %+v", ca)
			}
		})
	}
}

// cgroup2Root is where a cgroup v2 hierarchy is mounted (/sys/fs/cgroup,
// or /sys/fs/cgroup/unified on a hybrid host), or "".
func cgroup2Root(t *testing.T) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.Fields(sc.Text())
		for i, w := range l {
			if w == "-" && i+1 < len(l) && l[i+1] == "cgroup2" {
				return l[4]
			}
		}
	}
	return ""
}

// The child, and the one it forks into a new PID namespace, are born in
// the cgroup CgroupFD names.
func TestStartIntoCgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	root := cgroup2Root(t)
	if root == "" {
		t.Skip("no cgroup2 hierarchy mounted")
	}
	dir := filepath.Join(root, fmt.Sprintf("ctr-lite-test-clone3-%d", os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(dir)
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	cg := os.NewFile(uintptr(fd), dir)
	defer cg.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := Start(&Config{
		Namespaces: []specs.LinuxNamespace{{Type: "pid"}},
		Path:       "/bin/busybox",
		Args:       []string{"busybox", "cat", "/proc/self/cgroup"},
		Stdout:     w,
		CgroupFD:   cg,
	}, nil)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(r)
	if _, err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if !p.InCgroup {
		t.Skip("kernel without clone3 CLONE_INTO_CGROUP: Start fell back to fork") // < 5.7
	}
	want := "0::/" + filepath.Base(dir)
	if !strings.Contains(string(out), want+"\n") {
		t.Errorf("/proc/self/cgroup of the child:\n%s\nwant a line %q", out, want)
	}
}
