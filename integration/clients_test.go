package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// podman (through conmon) and containerd (through its runc v2 shim) use
// ctr-lite in place of runc, as a user runs them, on this machine's real
// cgroup layout. Each client gets private configuration, storage, state
// and cgroups (clients_*_test.go), removed even when a test fails. CI sets
// CTR_LITE_CLIENTS=1: a missing client is a failure there, not a skip.

var ptsPath = regexp.MustCompile(`/dev/pts/[0-9]+`)

// trapScript is a container that says "ready" once its SIGTERM trap is
// set and answers SIGTERM with "got TERM" and status 42 (the default
// action would give 143).
const trapScript = `trap 'echo got TERM; exit 42' TERM; echo ready; while :; do sleep 0.1; done`

// frozen reads the freezer state of pid's cgroup from the host.
func frozen(t *testing.T, pid string) string {
	t.Helper()
	return cgroupFile(t, pid, "freezer", "freezer.state", "cgroup.freeze")
}

// waitFor polls cond (a client's answer, not a clock) until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i == 300 {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantPts(t *testing.T, what string, r result) {
	t.Helper()
	if r.code != 0 || !ptsPath.MatchString(r.stdout) {
		t.Errorf("%s: want exit 0 and a /dev/pts path:\n%s", what, r)
	}
}

func TestUserRunsContainersWithPodman(t *testing.T) {
	p := newPodman(t)

	t.Run("run --rm echo hello", func(t *testing.T) {
		r := p.run(t, []string{"--rm"}, "echo", "hello")
		if r.code != 0 || r.stdout != "hello\n" {
			t.Errorf("want hello, exit 0:\n%s", r)
		}
	})
	t.Run("run --rm gives the container's exit status", func(t *testing.T) {
		if r := p.run(t, []string{"--rm"}, "sh", "-c", "exit 3"); r.code != 3 {
			t.Errorf("want exit 3:\n%s", r)
		}
	})
	t.Run("run of a missing program shows ctr-lite's error", func(t *testing.T) {
		r := p.run(t, []string{"--rm"}, "/nonexistent")
		// podman reads the last error line of ctr-lite's JSON log.
		if r.code != 127 || !strings.Contains(r.stderr, `executable "/nonexistent"`) {
			t.Errorf("want exit 127 and ctr-lite's message:\n%s", r)
		}
	})
	t.Run("run --memory 64m --pids-limit 100 reach the cgroup", func(t *testing.T) {
		id := strings.TrimSpace(p.run(t, []string{"-d", "--memory", "64m", "--pids-limit", "100"}, "sleep", "1000").stdout)
		defer p.podman(t, "rm", "--force", "--time", "0", id)
		pid := strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.Pid}}", id).stdout)
		if got := cgroupFile(t, pid, "memory", "memory.limit_in_bytes", "memory.max"); got != "67108864" {
			t.Errorf("memory limit of the container's cgroup: %s, want 67108864", got)
		}
		if got := cgroupFile(t, pid, "pids", "pids.max", "pids.max"); got != "100" {
			t.Errorf("pids.max of the container's cgroup: %s, want 100", got)
		}
		if path := procCgroups(t, pid)["memory"]; path != "" && !strings.HasPrefix(path, p.parent+"/") {
			t.Errorf("container's memory cgroup %s is not below --cgroup-parent %s", path, p.parent)
		}
		// Inside, /sys/fs/cgroup shows the container's own groups (podman
		// makes no cgroup namespace on v1: runc binds them).
		r := p.podman(t, "exec", id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; "+
			"cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max")
		if r.code != 0 || r.stdout != "67108864\n100\n" {
			t.Errorf("limits seen inside the container: want 67108864 and 100:\n%s", r)
		}
	})
	t.Run("run --read-only --tmpfs keeps the image's files", func(t *testing.T) {
		// podman asks for runc's tmpcopyup on /tmp, /run, /var/tmp and /etc.
		r := p.run(t, []string{"--rm", "--read-only", "--tmpfs", "/etc"}, "sh", "-c",
			"head -1 /etc/passwd; touch /tmp/w /etc/w && echo writable; touch /w 2>/dev/null || echo read-only root")
		if want := "root:x:0:0:root:/root:/bin/sh\nwritable\nread-only root\n"; r.code != 0 || r.stdout != want {
			t.Errorf("want %q, exit 0:\n%s", want, r)
		}
	})
	t.Run("run --sysctl is set though /proc/sys is read-only", func(t *testing.T) {
		r := p.run(t, []string{"--rm", "--sysctl", "net.ipv4.ip_forward=1"}, "sh", "-c",
			"cat /proc/sys/net/ipv4/ip_forward; echo 0 >/proc/sys/net/ipv4/ip_forward 2>/dev/null || echo read-only")
		if r.code != 0 || r.stdout != "1\nread-only\n" {
			t.Errorf("want 1 and read-only:\n%s", r)
		}
	})
	t.Run("run --rm -t prints a pts path", func(t *testing.T) {
		wantPts(t, "podman run -t tty", p.run(t, []string{"--rm", "-t"}, "tty"))
	})
	t.Run("run --rm -it under a terminal", func(t *testing.T) {
		wantPts(t, "podman run -it tty", underTerminal(t, p.env, p.runArgv([]string{"--rm", "-it"}, "tty")...))
	})

	var id, pid string
	t.Run("run -d", func(t *testing.T) {
		r := p.run(t, []string{"-d"}, "sh", "-c", trapScript)
		if id = strings.TrimSpace(r.stdout); r.code != 0 || id == "" {
			t.Fatalf("podman run -d:\n%s", r)
		}
		waitFor(t, "the container's trap", func() bool {
			return strings.Contains(p.must(t, "logs", id).stdout, "ready")
		})
		pid = strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.Pid}}", id).stdout)
	})
	if id == "" {
		t.Fatal("no detached container")
	}
	t.Run("exec gives the exit status", func(t *testing.T) {
		if r := p.podman(t, "exec", id, "sh", "-c", "echo in; exit 5"); r.code != 5 || r.stdout != "in\n" {
			t.Errorf("want in, exit 5:\n%s", r)
		}
	})
	t.Run("exec -t gets a tty", func(t *testing.T) {
		wantPts(t, "podman exec -t tty", p.podman(t, "exec", "-t", id, "tty"))
	})
	t.Run("top", func(t *testing.T) {
		if r := p.must(t, "top", id); !strings.Contains(r.stdout, "trap") {
			t.Errorf("podman top does not show the container's sh:\n%s", r)
		}
	})
	t.Run("pause and unpause", func(t *testing.T) {
		p.must(t, "pause", id)
		if st := strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.Status}}", id).stdout); st != "paused" {
			t.Errorf("after pause podman says %s", st)
		}
		if f := frozen(t, pid); f != "FROZEN" && f != "1" {
			t.Errorf("after pause the freezer says %s", f)
		}
		p.must(t, "unpause", id)
		if st := strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.Status}}", id).stdout); st != "running" {
			t.Errorf("after unpause podman says %s", st)
		}
		if f := frozen(t, pid); f != "THAWED" && f != "0" {
			t.Errorf("after unpause the freezer says %s", f)
		}
	})
	t.Run("stop delivers SIGTERM to the trap", func(t *testing.T) {
		p.must(t, "stop", "--time", "10", id)
		if out := p.must(t, "logs", id).stdout; !strings.Contains(out, "got TERM") {
			t.Errorf("the trap did not run; logs:\n%s", out)
		}
		if code := strings.TrimSpace(p.must(t, "inspect", "--format", "{{.State.ExitCode}}", id).stdout); code != "42" {
			t.Errorf("exit code after stop: %s, want 42 (the trap's)", code)
		}
	})
	t.Run("rm", func(t *testing.T) {
		p.must(t, "rm", id)
		if r := ctrLite(t, "state", id); r.code == 0 {
			t.Errorf("ctr-lite still knows %s after podman rm:\n%s", id, r)
		}
	})
	t.Run("nothing left behind", func(t *testing.T) {
		if ids := p.containerIDs(t); len(ids) < 9 {
			t.Errorf("podman's event log knows only %d containers: %v", len(ids), ids)
		}
		if left := p.leftovers(t); len(left) > 0 {
			t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
		}
	})
}

func TestUserRunsContainersWithContainerd(t *testing.T) {
	c := newContainerd(t)

	t.Run("run --rm echo hello", func(t *testing.T) {
		r := c.run(t, []string{"--rm"}, "hello", "echo", "hello")
		if r.code != 0 || r.stdout != "hello\n" {
			t.Errorf("want hello, exit 0:\n%s", r)
		}
	})
	t.Run("run --rm gives the container's exit status", func(t *testing.T) {
		if r := c.run(t, []string{"--rm"}, "exit3", "sh", "-c", "exit 3"); r.code != 3 {
			t.Errorf("want exit 3:\n%s", r)
		}
	})
	t.Run("run of a missing program shows ctr-lite's error", func(t *testing.T) {
		r := c.run(t, []string{"--rm"}, "missing", "/nonexistent")
		// The shim reads the last error line of ctr-lite's JSON log.
		if r.code == 0 || !strings.Contains(r.stderr, `executable "/nonexistent"`) {
			t.Errorf("want a failure with ctr-lite's message:\n%s", r)
		}
		c.ctr(t, "containers", "delete", "missing")
	})
	t.Run("run --rm -t under a terminal", func(t *testing.T) {
		wantPts(t, "ctr run -t tty", underTerminal(t, nil, c.runArgv([]string{"--rm", "-t"}, "tty", "tty")...))
	})
	t.Run("run --memory-limit reaches the cgroup", func(t *testing.T) {
		if r := c.run(t, []string{"-d", "--memory-limit", "67108864"}, "mem", "sleep", "1000"); r.code != 0 {
			t.Fatalf("ctr run -d:\n%s", r)
		}
		defer c.ctr(t, "containers", "delete", "mem")
		defer c.ctr(t, "tasks", "delete", "--force", "mem")
		pid, _ := c.taskPid(t, "mem")
		if got := cgroupFile(t, pid, "memory", "memory.limit_in_bytes", "memory.max"); got != "67108864" {
			t.Errorf("memory limit of the task's cgroup: %s, want 67108864", got)
		}
		if path := procCgroups(t, pid)["memory"]; path != "" && path != "/"+c.ns+"/mem" {
			t.Errorf("task's memory cgroup is %s, want ctr's /%s/mem", path, c.ns)
		}
	})

	log := filepath.Join(c.dir, "trap.log")
	var pid string
	t.Run("run -d", func(t *testing.T) {
		if r := c.run(t, []string{"-d", "--log-uri", "file://" + log}, "trap", "sh", "-c", trapScript); r.code != 0 {
			t.Fatalf("ctr run -d:\n%s", r)
		}
		waitFor(t, "the task's trap", func() bool {
			data, _ := os.ReadFile(log)
			return strings.Contains(string(data), "ready")
		})
		pid, _ = c.taskPid(t, "trap")
	})
	if pid == "" {
		t.Fatal("no detached task")
	}
	t.Run("task exec gives the exit status", func(t *testing.T) {
		r := c.ctr(t, "tasks", "exec", "--fifo-dir", c.fifos, "--exec-id", "e5", "trap", "sh", "-c", "echo in; exit 5")
		if r.code != 5 || r.stdout != "in\n" {
			t.Errorf("want in, exit 5:\n%s", r)
		}
	})
	t.Run("task exec -t under a terminal", func(t *testing.T) {
		argv := c.ctrArgv("tasks", "exec", "--fifo-dir", c.fifos, "-t", "--exec-id", "tty", "trap", "tty")
		wantPts(t, "ctr task exec -t tty", underTerminal(t, nil, argv...))
	})
	t.Run("task ps", func(t *testing.T) {
		// The shim asks ctr-lite: ps --format json.
		if r := c.must(t, "tasks", "ps", "trap"); !regexp.MustCompile(`(?m)^` + pid + `\s`).MatchString(r.stdout) {
			t.Errorf("task ps does not list the init %s:\n%s", pid, r)
		}
	})
	t.Run("task pause and resume", func(t *testing.T) {
		c.must(t, "tasks", "pause", "trap")
		if _, st := c.taskPid(t, "trap"); st != "PAUSED" {
			t.Errorf("after pause containerd says %s", st)
		}
		if f := frozen(t, pid); f != "FROZEN" && f != "1" {
			t.Errorf("after pause the freezer says %s", f)
		}
		c.must(t, "tasks", "resume", "trap")
		if _, st := c.taskPid(t, "trap"); st != "RUNNING" {
			t.Errorf("after resume containerd says %s", st)
		}
		if f := frozen(t, pid); f != "THAWED" && f != "0" {
			t.Errorf("after resume the freezer says %s", f)
		}
	})
	t.Run("task kill -s SIGTERM reaches the trap", func(t *testing.T) {
		c.must(t, "tasks", "kill", "--signal", "SIGTERM", "trap")
		waitFor(t, "the task to stop", func() bool {
			_, st := c.taskPid(t, "trap")
			return st == "STOPPED"
		})
		if data, _ := os.ReadFile(log); !strings.Contains(string(data), "got TERM") {
			t.Errorf("the trap did not run; log:\n%s", data)
		}
	})
	t.Run("task delete", func(t *testing.T) {
		c.must(t, "tasks", "delete", "trap")
		if r := c.must(t, "tasks", "ls", "--quiet"); strings.TrimSpace(r.stdout) != "" {
			t.Errorf("tasks after task delete: %s", r.stdout)
		}
		c.must(t, "containers", "delete", "trap")
	})
	t.Run("nothing left behind", func(t *testing.T) {
		if left := c.leftovers(t); len(left) > 0 {
			t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
		}
	})
}
