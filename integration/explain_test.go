package integration

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// start and kill explain their kernel steps as every other command does:
// start opens the exec FIFO, reads it to EOF (the init's execve) and
// unlinks it; kill is kill(2) of the init, and with --all of each
// process in the container's cgroup. Without --explain they print
// nothing.
func TestUserExplainsStartAndKill(t *testing.T) {
	b := newBundle(t, "explain", "sleep", "1000")
	b.mustDetached("create", "-b", b.dir, b.id)
	pid := b.state(b.id).Pid
	fifo := filepath.Join(b.root, b.id, "exec.fifo")
	wantLines := func(what, stderr string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s --explain lacks %q:\n%s", what, w, stderr)
			}
		}
	}
	r := b.must("--explain", "start", b.id)
	wantLines("start", r.stderr,
		"explain[start]: open("+fifo+", O_RDONLY|O_NONBLOCK|O_CLOEXEC)",
		"explain[start]: read(exec fifo, until EOF)",
		"explain[start]: unlink("+fifo+")")
	if st := b.state(b.id); st.Status != "running" {
		t.Fatalf("after start the container is %s, want running", st.Status)
	}
	if r := b.must("kill", b.id, "0"); r.stderr != "" {
		t.Errorf("kill without --explain printed %q", r.stderr)
	}
	r = b.must("kill", "--explain", b.id, "0")
	wantLines("kill", r.stderr, fmt.Sprintf("explain[kill]: kill(%d, 0)", pid))
	r = b.must("kill", "--all", "--explain", b.id, "KILL")
	wantLines("kill --all", r.stderr, fmt.Sprintf("explain[kill]: kill(%d, SIGKILL)", pid))
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
	b.wantNothingLeft()
}
