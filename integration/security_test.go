package integration

// Each test here attempts one class of attack that broke runc, from a
// hostile bundle or from inside the container, and checks what the host
// shows afterwards: nothing written, created or mounted outside the
// rootfs, and a clear one-line error where the runtime refuses.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// privateBinary copies ctr-lite to a directory of the test's own: no
// other test executes the copy, so an open for writing is never refused
// just because the file is being executed (ETXTBSY).
func privateBinary(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ctr-lite")
	if err := os.WriteFile(p, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// runBin runs bin with --root of b; stdio are files (a detached container
// may keep them), so it returns when bin exits.
func runBin(b *bundle, bin string, args ...string) result {
	b.t.Helper()
	dir := b.t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "stdout"))
	errf, _ := os.Create(filepath.Join(dir, "stderr"))
	defer out.Close()
	defer errf.Close()
	cmd := exec.Command(bin, b.args(args...)...)
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	var r result
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
	} else if err != nil {
		b.t.Fatalf("run %v: %v", args, err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

// nsPid is pid as the container sees it (last NSpid field).
func nsPid(t *testing.T, hostPid int) string {
	t.Helper()
	f := strings.Fields(statusField(t, hostPid, "NSpid"))
	if len(f) == 0 {
		t.Fatalf("no NSpid for %d", hostPid)
	}
	return f[len(f)-1]
}

func readPidFile(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// waitExeced waits until pid runs comm: start and exec -d return once
// the init is ready, before its last execve. The deadline only avoids
// hanging.
func waitExeced(t *testing.T, pid int, comm string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); string(got) == comm+"\n" {
			return
		}
	}
	t.Fatalf("process %d never became %s", pid, comm)
}

// dirEntries lists dir's names (nil if it is empty or missing).
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestAttackOverwritesRuntimeThroughProcExe is CVE-2019-5736: a process
// in the container opens /proc/PID/exe of a process that runs ctr-lite
// (the init before `start`, or the container's own program when it
// execs /proc/self/exe, which an exec's init leads to ctr-lite), keeps
// the fd and, once nothing executes the binary any more, reopens it for
// writing. The runtime binary on the host must stay as it was.
func TestAttackOverwritesRuntimeThroughProcExe(t *testing.T) {
	b := newBundle(t, "exe", "sleep", "1000")
	mnt := b.hostDir("/mnt")
	bin := privateBinary(t)
	before := fileHash(t, bin)
	run := func(args ...string) result {
		t.Helper()
		r := runBin(b, bin, args...)
		if r.code != 0 {
			t.Fatalf("ctr-lite %s: %s", strings.Join(args, " "), r)
		}
		return r
	}

	// The created init is ctr-lite, blocked on the exec FIFO.
	run("create", "-b", b.dir, b.id)
	b.state(b.id)
	r := runBin(b, bin, "exec", b.id, "sh", "-c", "readlink /proc/1/exe; exec 3</proc/1/exe && readlink /proc/self/fd/3")
	if strings.Contains(r.stdout, bin) {
		t.Errorf("the created init's /proc/1/exe leads to the host binary %s:\n%s", bin, r)
	}
	run("start", b.id)

	// The raw init executes every program through its sealed trampoline
	// (exeseal.Trampoline): /proc/self/exe, or a "#!/proc/self/exe"
	// script, then names the trampoline, never ctr-lite. So a program
	// that re-executes /proc/self/exe cannot become ctr-lite at all.
	if r := runBin(b, bin, "--explain", "exec", b.id, "/proc/self/exe", "--version"); strings.Contains(r.stderr, "no init process") {
		if r.code == 0 || strings.Contains(r.stdout, "ctr-lite") {
			t.Errorf("exec of /proc/self/exe through the raw init ran ctr-lite:\n%s", r)
		}
		script := filepath.Join(mnt, "victim")
		if err := os.WriteFile(script, []byte("#!/proc/self/exe\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		if r := runBin(b, bin, "exec", b.id, "/mnt/victim", "--version"); r.code == 0 || strings.Contains(r.stdout, "ctr-lite") {
			t.Errorf("a #!/proc/self/exe script run by the raw init ran ctr-lite:\n%s", r)
		}
		if after := fileHash(t, bin); after != before {
			t.Errorf("host binary %s changed: sha256 %s -> %s", bin, before, after)
		}
		b.must("kill", "--all", b.id, "KILL")
		b.waitStatus(b.id, "stopped")
		b.must("delete", b.id)
		return
	}

	// The container's program re-executes ctr-lite through
	// /proc/self/exe ("#!/proc/self/exe" in the exploit); ctr-lite ns
	// waits for its child, so it keeps running until we kill it.
	pidFile := filepath.Join(t.TempDir(), "pid")
	run("exec", "-d", "--pid-file", pidFile, b.id, "/proc/self/exe", "ns", "--", "sleep", "1000")
	victim := readPidFile(t, pidFile)
	b.pids = append(b.pids, victim)
	waitExeced(t, victim, "exe") // ctr-lite, exec'd as /proc/self/exe
	attack := fmt.Sprintf(`exec 3</proc/%s/exe || exit 1
readlink /proc/self/fd/3 >/mnt/link
echo opened >/mnt/opened
while [ ! -e /mnt/go ]; do sleep 0.05; done
{ printf X >>/proc/self/fd/3; } 2>/mnt/err
echo $? >/mnt/rc`, nsPid(t, victim))
	run("exec", "-d", b.id, "sh", "-c", attack)
	waitFile(t, filepath.Join(mnt, "opened"))
	syscall.Kill(victim, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); alive(victim) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if err := os.WriteFile(filepath.Join(mnt, "go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rc := waitFile(t, filepath.Join(mnt, "rc"))
	link, _ := os.ReadFile(filepath.Join(mnt, "link"))
	msg, _ := os.ReadFile(filepath.Join(mnt, "err"))
	t.Logf("exe seen as %q; write: %q", strings.TrimSpace(string(link)), strings.TrimSpace(string(msg)))
	if rc == "0\n" {
		t.Errorf("the container wrote the runtime binary through /proc/PID/exe")
	}
	if strings.Contains(string(msg), "busy") {
		t.Errorf("the write was refused only because the file was being executed (ETXTBSY): %s", msg)
	}
	if after := fileHash(t, bin); after != before {
		t.Errorf("host binary %s changed: sha256 %s -> %s", bin, before, after)
	}
	b.must("kill", "--all", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
}

// TestAttackEscapesThroughLeakedFdOrCwd is CVE-2024-21626: process.cwd
// set to /proc/self/fd/N (an fd the init still held) or to a path that
// climbs out put the container's process outside its root. The cwd must
// end up inside the rootfs or create must fail; the program and exec'd
// processes hold only 0, 1, 2 and the preserved fds; and no process of
// the container reaches the init's fds while it sets up.
func TestAttackEscapesThroughLeakedFdOrCwd(t *testing.T) {
	b := newBundle(t, "cwd", "/bin/pwd", "-P")
	cwds := []string{"/../../..", "/proc/self/cwd/../..", "/proc/self/root/..", "/proc/1/cwd", "/proc/self/fd/.."}
	for n := 3; n <= 16; n++ {
		cwds = append(cwds, "/proc/self/fd/"+strconv.Itoa(n), "/proc/thread-self/fd/"+strconv.Itoa(n))
	}
	for i, cwd := range cwds {
		b.spec.Process.Cwd = cwd
		b.write()
		// getcwd(2) shows where the program really is: a directory
		// outside its root comes back "(unreachable)/...", or an error.
		r := b.ctr("run", "-b", b.dir, b.track(fmt.Sprintf("%s-%d", b.id, i)))
		if r.code != 0 {
			checkOneLineError(t, r, []string{cwd})
			t.Logf("process.cwd %q refused: %s", cwd, strings.TrimSpace(r.stderr))
			continue
		}
		if !strings.HasPrefix(r.stdout, "/") || strings.Contains(r.stdout, "unreachable") {
			t.Errorf("process.cwd %q: the program's cwd is outside its root:\n%s", cwd, r)
		}
	}

	b.spec.Process.Args = []string{"sleep", "1000"}
	// Only 0, 1, 2 and the preserved fd reach the program and exec.
	b.spec.Process.Cwd = "/"
	b.write()
	keep, err := os.Open(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	if r := b.detached([]*os.File{keep}, "create", "--preserve-fds", "1", "-b", b.dir, b.id); r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	init := b.state(b.id).Pid
	// While the init sets up (here: waits for start), the container's
	// processes must not reach what it holds: runtime fds, its cwd, exe.
	r := b.must("exec", b.id, "sh", "-c", "for f in /proc/1/fd/* /proc/1/cwd /proc/1/root /proc/1/exe; do readlink $f && echo REACHED $f; done; true")
	if strings.Contains(r.stdout, "REACHED") {
		t.Errorf("a process in the container reached the created init's fds:\n%s", r)
	}
	b.must("start", b.id)
	waitExeced(t, init, "sleep")
	if got := dirEntries(t, fmt.Sprintf("/proc/%d/fd", init)); strings.Join(got, " ") != "0 1 2 3" {
		t.Errorf("the program's fds are %v, want 0 1 2 3 (3 preserved)", got)
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	b.mustDetached("exec", "-d", "--pid-file", pidFile, b.id, "sleep", "1000")
	epid := readPidFile(t, pidFile)
	b.pids = append(b.pids, epid)
	waitExeced(t, epid, "sleep")
	if got := dirEntries(t, fmt.Sprintf("/proc/%d/fd", epid)); strings.Join(got, " ") != "0 1 2" {
		t.Errorf("the exec'd process's fds are %v, want 0 1 2", got)
	}
	for n := 3; n <= 16; n++ {
		cwd := "/proc/self/fd/" + strconv.Itoa(n)
		r := b.ctr("exec", "--cwd", cwd, b.id, "pwd", "-P")
		if r.code != 0 {
			checkOneLineError(t, r, []string{cwd})
			continue
		}
		if !strings.HasPrefix(r.stdout, "/") || strings.Contains(r.stdout, "unreachable") {
			t.Errorf("exec --cwd %s: the process's cwd is outside its root:\n%s", cwd, r)
		}
	}
	b.must("kill", "--all", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)
}

// TestAttackMountsThroughSymlinkAtDestination is CVE-2021-30465 and
// CVE-2024-45310: the rootfs has symlinks at mount destinations pointing
// at a host directory, fixed or swapped in while the runtime works. The
// mounts land inside the rootfs; the host directory gets neither a mount
// nor a new directory.
func TestAttackMountsThroughSymlinkAtDestination(t *testing.T) {
	b := newBundle(t, "symlink", "sleep", "1000")
	host := t.TempDir()
	rootfs := filepath.Join(b.dir, "rootfs")
	os.Remove(filepath.Join(rootfs, "mnt"))
	if err := os.Symlink(host, filepath.Join(rootfs, "mnt")); err != nil {
		t.Fatal(err)
	}
	rel := strings.Repeat("../", 20) + strings.TrimPrefix(host, "/")
	if err := os.Symlink(rel, filepath.Join(rootfs, "up")); err != nil {
		t.Fatal(err)
	}
	// A dangling link: nothing may be created through it.
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/mnt/x", Type: "tmpfs", Source: "tmpfs"})
	b.write()
	if r := b.detached(nil, "create", "-b", b.dir, b.id); r.code == 0 {
		b.state(b.id)
		b.must("delete", "--force", b.id)
	} else {
		checkOneLineError(t, r, []string{"/mnt/x"})
	}
	if got := dirEntries(t, host); len(got) > 0 {
		t.Errorf("host directory %s got %v through a dangling link", host, got)
	}
	// The links resolve as if the rootfs were "/": to the same path in
	// the rootfs, where the mounts go.
	inRoot := filepath.Join(rootfs, host)
	if err := os.MkdirAll(inRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	b.spec.Mounts = append(b.spec.Mounts[:len(b.spec.Mounts)-1],
		specs.Mount{Destination: "/mnt/x", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/up/y/z", Type: "bind", Source: src, Options: []string{"rbind"}})
	b.write()
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	r := b.must("exec", b.id, "sh", "-c", "grep -c tmpfs /proc/self/mountinfo >/dev/null; stat -f -c %T /mnt/x; ls -d /up/y/z")
	t.Logf("inside: %s", r.stdout)
	if !strings.Contains(r.stdout, "tmpfs") {
		t.Errorf("/mnt/x is not the tmpfs inside the container:\n%s", r)
	}
	if got := dirEntries(t, host); len(got) > 0 {
		t.Errorf("host directory %s got %v", host, got)
	}
	if m := mountsUnder(t, host); len(m) > 0 {
		t.Errorf("host directory %s got mounts %v", host, m)
	}
	if got := dirEntries(t, inRoot); strings.Join(got, " ") != "x y" {
		t.Errorf("%s (the links' target in the rootfs) has %v, want the mount points x y", inRoot, got)
	}
	b.must("kill", b.id, "KILL")
	b.waitStatus(b.id, "stopped")
	b.must("delete", b.id)

	// The race: /mnt swaps between a directory and the symlink
	// (renameat2 RENAME_EXCHANGE, atomic) while containers are created.
	os.Remove(filepath.Join(rootfs, "mnt"))
	os.Remove(filepath.Join(rootfs, "up"))
	if err := os.Mkdir(filepath.Join(rootfs, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(host, filepath.Join(rootfs, "mnt-link")); err != nil {
		t.Fatal(err)
	}
	b.spec.Mounts = append(b.spec.Mounts[:len(b.spec.Mounts)-2],
		specs.Mount{Destination: "/mnt/a/b/c", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/mnt/d", Type: "bind", Source: src, Options: []string{"bind"}})
	b.write()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			unix.Renameat2(unix.AT_FDCWD, filepath.Join(rootfs, "mnt"), unix.AT_FDCWD, filepath.Join(rootfs, "mnt-link"), unix.RENAME_EXCHANGE)
		}
	}()
	created := 0
	for i := 0; i < 30; i++ {
		id := b.track(fmt.Sprintf("%s-r%d", b.id, i))
		r := b.detached(nil, "create", "-b", b.dir, id)
		if r.code == 0 {
			created++
			b.state(id)
			b.must("delete", "--force", id)
		} else {
			checkOneLineError(t, r, nil)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d of 30 creates succeeded during the race", created)
	if got := dirEntries(t, host); len(got) > 0 {
		t.Errorf("host directory %s got %v during the race", host, got)
	}
	if m := mountsUnder(t, host); len(m) > 0 {
		t.Errorf("host directory %s got mounts %v", host, m)
	}
}

// TestAttackRedirectsProcWritesWithFakeProc is CVE-2019-16884,
// CVE-2023-27561 and CVE-2025-52881: the config mounts something over
// /proc/sys or /proc/1, or the rootfs has /proc as a symlink, so that the
// runtime's writes (sysctl, oom_score_adj) land in a file of the
// attacker's choosing. The runtime must refuse with a clear error and
// write nothing there.
func TestAttackRedirectsProcWritesWithFakeProc(t *testing.T) {
	fake := func(t *testing.T, rel string) (dir, file string) {
		dir = t.TempDir()
		file = filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte("untouched\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir, file
	}
	t.Run("sysctl through a bind over /proc/sys", func(t *testing.T) {
		b := newBundle(t, "fakesys", "true")
		dir, file := fake(t, "net/ipv4/ip_forward")
		b.spec.Linux.ReadonlyPaths = nil // the procfs check alone must stop it
		b.spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/proc/sys", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
		b.write()
		b.fail([]string{"run", "-b", b.dir, b.id}, "not on a procfs")
		if data, _ := os.ReadFile(file); string(data) != "untouched\n" {
			t.Errorf("the sysctl was written to %s: %q", file, data)
		}
	})
	t.Run("sysctl through a tmpfs over /proc", func(t *testing.T) {
		b := newBundle(t, "tmpproc", "true")
		b.spec.Linux.ReadonlyPaths = nil
		b.spec.Linux.MaskedPaths = nil
		b.spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/proc", Type: "tmpfs", Source: "tmpfs"})
		b.write()
		b.fail([]string{"run", "-b", b.dir, b.id}, "not on a procfs")
	})
	t.Run("oom_score_adj through a bind over /proc/1", func(t *testing.T) {
		b := newBundle(t, "fakepid", "true")
		dir, file := fake(t, "oom_score_adj")
		b.spec.Linux.ReadonlyPaths = nil
		b.spec.Process.OOMScoreAdj = intp(500)
		b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/proc/1", Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
		b.write()
		r := b.ctr("run", "-b", b.dir, b.id)
		if r.code == 0 {
			t.Errorf("run succeeded with a bind mount over /proc/1:\n%s", r)
		} else {
			checkOneLineError(t, r, nil)
			t.Logf("refused: %s", strings.TrimSpace(r.stderr))
		}
		if data, _ := os.ReadFile(file); string(data) != "untouched\n" {
			t.Errorf("oom_score_adj was written to %s: %q", file, data)
		}
	})
	t.Run("rootfs /proc is a symlink to a host directory", func(t *testing.T) {
		b := newBundle(t, "procsym", "sh", "-c", "stat -f -c %T /proc/self/")
		host := t.TempDir()
		rootfs := filepath.Join(b.dir, "rootfs")
		os.Remove(filepath.Join(rootfs, "proc"))
		if err := os.Symlink(host, filepath.Join(rootfs, "proc")); err != nil {
			t.Fatal(err)
		}
		b.spec.Process.OOMScoreAdj = intp(500)
		b.spec.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		b.write()
		r := b.ctr("run", "-b", b.dir, b.id)
		if r.code == 0 {
			if strings.TrimSpace(r.stdout) != "proc" {
				t.Errorf("/proc in the container is %q, not a procfs", r.stdout)
			}
		} else {
			checkOneLineError(t, r, nil)
		}
		if got := dirEntries(t, host); len(got) > 0 {
			t.Errorf("host directory %s got %v", host, got)
		}
	})
}

// acceptConsole listens on a console socket and drops every pty master
// it receives: enough for a create with process.terminal.
func acceptConsole(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
			if _, oobn, _, _, err := c.ReadMsgUnix(buf, oob); err == nil {
				if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil && len(msgs) == 1 {
					if fds, err := unix.ParseUnixRights(&msgs[0]); err == nil {
						for _, fd := range fds {
							unix.Close(fd)
						}
					}
				}
			}
			c.Close()
		}
	}()
	return path
}

// bindDevWithLinks replaces the bundle's /dev tmpfs with a bind of a host
// directory holding the symlinks planted (name -> target).
func bindDevWithLinks(t *testing.T, b *bundle, plant map[string]string) {
	t.Helper()
	dev := t.TempDir()
	for name, target := range plant {
		if err := os.Symlink(target, filepath.Join(dev, name)); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range b.spec.Mounts {
		if m.Destination == "/dev" {
			b.spec.Mounts[i] = specs.Mount{Destination: "/dev", Type: "bind", Source: dev, Options: []string{"rbind", "rw"}}
		}
	}
	b.write()
}

func rootfsPasswd(t *testing.T, b *bundle) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, "rootfs/etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestAttackMasksWithPlantedDevNull is CVE-2025-31133 and CVE-2025-52565:
// a /dev bound from the bundle with /dev/null a symlink to a file the
// attacker wants bound over a masked path, and /dev/pts a symlink so
// /dev/console gets something else. Masked paths get the real null device
// (char 1:3) or create fails; nothing in the rootfs or on the host gets
// bound over.
func TestAttackMasksWithPlantedDevNull(t *testing.T) {
	t.Run("dev/null symlink", func(t *testing.T) {
		b := newBundle(t, "devnull", "sh", "-c", `stat -c "%F %t:%T" /etc/hostname; grep -c " /etc/passwd " /proc/self/mountinfo; head -1 /etc/passwd`)
		b.spec.Linux.MaskedPaths = append(b.spec.Linux.MaskedPaths, "/etc/hostname")
		before := rootfsPasswd(t, b)
		bindDevWithLinks(t, b, map[string]string{"null": "/etc/passwd"})
		r := b.ctr("run", "-b", b.dir, b.id)
		if r.code == 0 {
			if !strings.HasPrefix(r.stdout, "character special file 1:3\n0\n") {
				t.Errorf("masked /etc/hostname is not the null device, or /etc/passwd got a mount:\n%s", r)
			}
		} else {
			checkOneLineError(t, r, nil)
			t.Logf("refused: %s", strings.TrimSpace(r.stderr))
		}
		if !bytes.Equal(rootfsPasswd(t, b), before) {
			t.Errorf("the rootfs's /etc/passwd changed")
		}
	})
	// /dev/pts links to a host directory: dangling in the rootfs, or
	// resolving to the same path inside it (where devpts then lands).
	for _, inRoot := range []bool{false, true} {
		t.Run(fmt.Sprintf("dev/pts symlink with a terminal, target in rootfs %v", inRoot), func(t *testing.T) {
			b := newBundle(t, "devpts", "true")
			b.spec.Process.Terminal = true
			target := t.TempDir()
			if inRoot {
				if err := os.MkdirAll(filepath.Join(b.dir, "rootfs", target), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			bindDevWithLinks(t, b, map[string]string{"pts": target, "console": "/etc/passwd"})
			before := rootfsPasswd(t, b)
			r := b.detached(nil, "create", "--console-socket", acceptConsole(t), "-b", b.dir, b.id)
			if r.code == 0 {
				t.Errorf("created with /dev/pts a symlink (pid %d)", b.state(b.id).Pid)
				b.must("delete", "--force", b.id)
			} else {
				checkOneLineError(t, r, []string{"/dev/pts"})
				t.Logf("refused: %s", strings.TrimSpace(r.stderr))
			}
			if !bytes.Equal(rootfsPasswd(t, b), before) {
				t.Errorf("the rootfs's /etc/passwd changed")
			}
			if got := dirEntries(t, target); len(got) > 0 {
				t.Errorf("host directory %s (the /dev/pts link's target) got %v", target, got)
			}
		})
	}
}

// (uid_t)-1 means "leave unchanged" to setresuid(2): a uid or gid of
// 4294967295 would run the program as the runtime's root. Every id
// ctr-lite takes is refused outside 0..2147483647, before anything runs.
func TestAttackRunsAsRootWithMinusOneID(t *testing.T) {
	const minus1 = 4294967295
	for _, tc := range []struct {
		name string
		edit func(s *specs.Spec)
		want string
	}{
		{"process-uid", func(s *specs.Spec) { s.Process.User.UID = minus1 }, "process.user.uid 4294967295: out of range 0..2147483647"},
		{"process-gid", func(s *specs.Spec) { s.Process.User.GID = minus1 }, "process.user.gid 4294967295"},
		{"additional-gid", func(s *specs.Spec) { s.Process.User.AdditionalGids = []uint32{1, 1 << 31} }, "additionalGids[1] 2147483648"},
		{"uid-mapping-host", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: minus1, Size: 1}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}}
		}, "linux.uidMappings[0] hostID 4294967295"},
		{"gid-mapping-overflow", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 2147483000, HostID: 100000, Size: 4294967000}}
		}, "linux.gidMappings[0] containerID+size-1"},
		{"tmpfs-uid-option", func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"uid=4294967295"}})
		}, "option uid 4294967295"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "minus1-"+tc.name, "sh", "-c", "id -u >/mnt/uid")
			out := b.hostDir("/mnt")
			tc.edit(b.spec)
			b.write()
			r := b.detached(nil, "run", "-d", "-b", b.dir, b.id)
			checkOneLineError(t, r, []string{`run "` + b.id + `": `, tc.want})
			if data, err := os.ReadFile(filepath.Join(out, "uid")); err == nil {
				t.Errorf("the program ran, as uid %s", data)
			}
			b.wantNothingLeft()
		})
	}

	b := newBundle(t, "minus1-exec", "sleep", "1000")
	out := b.hostDir("/mnt")
	b.spec.Process.User = specs.User{UID: 1000, GID: 1000}
	b.write()
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	b.state(b.id)
	proc := specs.Process{Args: []string{"sh", "-c", "id -u >/mnt/uid"}, Cwd: "/", Env: []string{"PATH=/bin"},
		User: specs.User{UID: minus1}}
	pf := filepath.Join(t.TempDir(), "process.json")
	js, _ := json.Marshal(proc)
	os.WriteFile(pf, js, 0o644)
	for _, args := range [][]string{
		{"exec", "--user", "4294967295", b.id, "sh", "-c", "id -u >/mnt/uid"},
		{"exec", "--user", "0:4294967295", b.id, "sh", "-c", "id -u >/mnt/uid"},
		{"exec", "-u", "2147483648", b.id, "sh", "-c", "id -u >/mnt/uid"},
		{"exec", "-g", "4294967295", b.id, "sh", "-c", "id -u >/mnt/uid"},
		{"exec", "--process", pf, b.id},
	} {
		r := b.detached(nil, args...)
		checkOneLineError(t, r, []string{`exec "` + b.id + `": `, "out of range 0..2147483647"})
		if r.code != 255 {
			t.Errorf("%v: exit %d, want 255", args, r.code)
		}
		if data, err := os.ReadFile(filepath.Join(out, "uid")); err == nil {
			t.Fatalf("%v: the program ran, as uid %s", args, data)
		}
	}
	b.must("delete", "-f", b.id)
}

// The image's /etc/passwd and /etc/group are read by the init: a FIFO in
// their place must not block create, and a huge file must not be read.
func TestAttackPlantsFIFOAndHugeFileAsEtcPasswd(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		plant      func(p string) error
		want       string
	}{
		{"fifo-passwd", "passwd", func(p string) error { return unix.Mkfifo(p, 0o644) }, "/etc/passwd is not a regular file"},
		{"huge-group", "group", func(p string) error {
			f, err := os.Create(p)
			if err != nil {
				return err
			}
			defer f.Close()
			return f.Truncate(4 << 30) // sparse: costs no disk
		}, "/etc/group is 4294967296 bytes"},
		{"dev-zero-group", "group", func(p string) error { return unix.Mknod(p, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))) }, "/etc/group is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "etc-"+tc.name, "true")
			p := filepath.Join(b.dir, "rootfs", "etc", tc.file)
			os.Remove(p)
			if err := tc.plant(p); err != nil {
				t.Fatal(err)
			}
			done := make(chan result, 1)
			go func() { done <- b.detached(nil, "create", "-b", b.dir, b.id) }()
			select {
			case r := <-done:
				checkOneLineError(t, r, []string{`create "` + b.id + `": `, tc.want})
			case <-time.After(30 * time.Second):
				t.Fatalf("create blocked on a planted %s", tc.name)
			}
			b.wantNothingLeft()
		})
	}
}
