package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The helpers of clients_test.go: podman and containerd driving ctr-lite
// as a user runs them, each with private configuration, storage, state and
// cgroups that the test removes even when it fails.

// clientTimeout bounds one client command, so that a hang is a failure
// with a message rather than a stuck suite.
const clientTimeout = 60 * time.Second

// requireClients skips the test when a client program is not installed,
// except in CI (CTR_LITE_CLIENTS=1), where that is a failure. The VM has
// no clients.
func requireClients(t *testing.T, names ...string) {
	t.Helper()
	requireRoot(t)
	if inVM() {
		t.Skip("podman and containerd are not in the VM")
	}
	for _, n := range names {
		if _, err := exec.LookPath(n); err != nil {
			if os.Getenv("CTR_LITE_CLIENTS") == "1" {
				t.Fatalf("%s is not installed and CTR_LITE_CLIENTS=1: %v", n, err)
			}
			t.Skipf("%s is not installed (apt-get install podman containerd)", n)
		}
	}
}

// runtimeWrapper writes dir/ctr-lite, a script that appends the argv a
// client passes to dir/argv.log and then execs ctr-lite: when a test
// fails, the log shows what the client asked of the runtime. The name is
// ctr-lite because podman matches runtime_supports_json by name.
func runtimeWrapper(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "ctr-lite")
	log := filepath.Join(dir, "argv.log")
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >>%s\nexec %s \"$@\"\n", shQuote(log), shQuote(binary))
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			data, _ := os.ReadFile(log)
			t.Logf("argv the client passed to ctr-lite:\n%s", data)
		}
	})
	return path
}

func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// runClient runs a client command with env added to ours and stdin (or
// /dev/null), in its own process group that is killed on timeout.
func runClient(t *testing.T, env []string, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = stdin
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s: no answer after %v\n%s", name, strings.Join(args, " "), clientTimeout, r)
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return r
}

// underTerminal runs argv under script(1), which gives it a
// pseudo-terminal as stdin, stdout and stderr. script's own stdin is a pipe
// held open until the command ends: at EOF script would stop relaying and
// the output could be lost (BASELINE.md item 7).
func underTerminal(t *testing.T, env []string, argv ...string) result {
	t.Helper()
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shQuote(a)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	return runClient(t, env, r, "script", "-qec", strings.Join(quoted, " "), "/dev/null")
}

// lacksSysResource reports whether we may not raise a hard rlimit
// (CAP_SYS_RESOURCE, bit 24 of CapEff): these machines lack it.
func lacksSysResource(t *testing.T) bool {
	t.Helper()
	v, err := strconv.ParseUint(statusField(t, os.Getpid(), "CapEff"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v&(1<<unix.CAP_SYS_RESOURCE) == 0
}

// procCgroups is /proc/PID/cgroup as controller -> path: each v1
// controller (and name=systemd) by name, the cgroup2 line as "".
func procCgroups(t *testing.T, pid string) map[string]string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + pid + "/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" {
			m[""] = f[2]
		}
		for _, c := range strings.Split(f[1], ",") {
			m[c] = f[2]
		}
	}
	return m
}

// cgroupFile reads file of the cgroup of process pid from the host: in
// the v1 hierarchy of controller, or in the cgroup2 one if it has none.
func cgroupFile(t *testing.T, pid, controller, v1, v2 string) string {
	t.Helper()
	cg := procCgroups(t, pid)
	if rel, ok := cg[controller]; ok {
		return readTrim(t, filepath.Join("/sys/fs/cgroup", controller, rel, v1))
	}
	mnt := "/sys/fs/cgroup"
	if _, err := os.Stat("/sys/fs/cgroup/unified"); err == nil {
		mnt = "/sys/fs/cgroup/unified"
	}
	return readTrim(t, filepath.Join(mnt, cg[""], v2))
}

// cgroupMounts are the cgroup hierarchies: every v1 mount and the cgroup2
// one (at /sys/fs/cgroup/unified in the hybrid layout).
func cgroupMounts(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) > 4 && len(g) > 0 && (g[0] == "cgroup" || g[0] == "cgroup2") {
			out = append(out, f[4])
		}
	}
	return out
}

// cgroupTree lists rel and the cgroups below it in every hierarchy,
// deepest first.
func cgroupTree(t *testing.T, rel string) []string {
	t.Helper()
	var dirs []string
	for _, m := range cgroupMounts(t) {
		filepath.WalkDir(filepath.Join(m, rel), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	return dirs
}

// removeCgroupTree thaws and kills every process in the cgroups at rel
// (they are the test's containers and conmons) and removes the cgroups.
func removeCgroupTree(t *testing.T, rel string) {
	t.Helper()
	for _, d := range cgroupTree(t, rel) {
		if strings.Contains(d, "/freezer/") {
			os.WriteFile(filepath.Join(d, "freezer.state"), []byte("THAWED"), 0)
		}
	}
	for try := 0; try < 100; try++ {
		left := 0
		for _, d := range cgroupTree(t, rel) {
			data, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
			for _, f := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(f); err == nil {
					unix.Kill(pid, unix.SIGKILL)
					left++
				}
			}
		}
		if left == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, d := range cgroupTree(t, rel) {
		if err := os.Remove(d); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// killByCmdline kills the processes whose command line contains marker (a
// private directory of the test, so they are the test's own: conmon,
// containerd-shim).
func killByCmdline(marker string) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		data, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if bytes.Contains(data, []byte(marker)) {
			unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// unmountUnder detaches whatever the clients left mounted below dir
// (podman's /dev/shm, containerd's rootfs), deepest first.
func unmountUnder(t *testing.T, dir string) {
	t.Helper()
	mnts := mountsUnder(t, dir)
	sort.Slice(mnts, func(i, j int) bool { return len(mnts[i]) > len(mnts[j]) })
	for _, m := range mnts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: umount %s: %v", m, err)
		}
	}
}

// clientDir is a private directory for one client's configuration,
// storage and state, short enough for unix socket paths (108 bytes).
func clientDir(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unmountUnder(t, dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	return dir
}

// tag is a short random name part, so runs and leftovers never collide.
func tag(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := unix.Getrandom(b[:], 0); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", b)
}
