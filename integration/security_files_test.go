package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// otherUID is the user who attacks: not root, not us.
const otherUID = 1000

// sharedDirs are the two kinds of directory another user can write: one
// of theirs, and a sticky world-writable one like /tmp.
func sharedDirs(t *testing.T) map[string]string {
	t.Helper()
	owned, sticky := t.TempDir(), t.TempDir()
	if err := os.Chown(owned, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(owned, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"theirs": owned, "sticky": sticky}
}

// plantLink makes path a symlink to target owned by the other user.
func plantLink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if err := os.Lchown(path, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
}

// victimFile is a host file only root may write, which the attack tries
// to overwrite; it returns its path and content.
func victimFile(t *testing.T) (string, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "victim")
	const content = "precious host file\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p, content
}

func wantUnchanged(t *testing.T, path, content string) {
	t.Helper()
	if got, err := os.ReadFile(path); err != nil || string(got) != content {
		t.Errorf("%s was changed through a planted symlink: %q (%v)", path, got, err)
	}
}

// TestAttackRedirectsPidFileThroughPlantedSymlink: --pid-file DIR/pid in a
// directory another user can write, who planted symlinks to a host file
// at DIR/pid and at the temporary name ctr-lite used to write through
// (DIR/.pid.tmp). create, run -d and exec -d must write a pid file of
// their own there and leave the host file alone.
func TestAttackRedirectsPidFileThroughPlantedSymlink(t *testing.T) {
	victim, content := victimFile(t)
	for kind, dir := range sharedDirs(t) {
		t.Run(kind, func(t *testing.T) {
			b := newBundle(t, "pidlink-"+kind, "sleep", "1000")
			check := func(cmd string, args ...string) {
				t.Helper()
				pidFile := filepath.Join(dir, cmd+".pid")
				plantLink(t, victim, pidFile)
				plantLink(t, victim, filepath.Join(dir, "."+cmd+".pid.tmp"))
				b.mustDetached(append([]string{cmd, "--pid-file", pidFile}, args...)...)
				wantUnchanged(t, victim, content)
				fi, err := os.Lstat(pidFile)
				if err != nil || !fi.Mode().IsRegular() {
					t.Fatalf("%s --pid-file: %s is not a regular file: %v %v", cmd, pidFile, fi, err)
				}
				pid := readPidFile(t, pidFile)
				b.pids = append(b.pids, pid)
				if !alive(pid) {
					t.Errorf("%s --pid-file: pid %d is not running", cmd, pid)
				}
			}
			check("create", "--bundle", b.dir, b.id)
			b.must("start", b.id)
			check("exec", "--detach", b.id, "sleep", "1000")
			b.must("delete", "--force", b.id)
			run := b.track(b.id + "-run")
			check("run", "--detach", "--bundle", b.dir, run)
			b.must("delete", "--force", run)
			if left := dirEntries(t, dir); len(left) != 6 {
				t.Errorf("want the 3 pid files and 3 planted links in %s, found %v", dir, left)
			}
		})
	}
}

// TestAttackRedirectsLogThroughPlantedSymlink: --log DIR/log where another
// user planted a symlink to a host file: ctr-lite refuses it (runc would
// append to the target) with a one-line error, while a link of root's own
// and /dev/stderr still work.
func TestAttackRedirectsLogThroughPlantedSymlink(t *testing.T) {
	requireRoot(t)
	victim, content := victimFile(t)
	root := filepath.Join(t.TempDir(), "state")
	for kind, dir := range sharedDirs(t) {
		t.Run(kind, func(t *testing.T) {
			log := filepath.Join(dir, "log")
			plantLink(t, victim, log)
			r := wantFail(t, []string{"--root", root, "--log", log, "state", "nonexistent"}, "refusing to follow a symlink", log)
			wantUnchanged(t, victim, content)
			if strings.Contains(r.stderr, "nonexistent") {
				t.Errorf("the command ran with a refused log: %q", r.stderr)
			}
		})
	}
	// Root's own link in the sticky directory, and /dev/stderr, are followed.
	sticky := sharedDirs(t)["sticky"]
	target := filepath.Join(t.TempDir(), "real.log")
	if err := os.Symlink(target, filepath.Join(sticky, "ours")); err != nil {
		t.Fatal(err)
	}
	ctrLite(t, "--root", root, "--log", filepath.Join(sticky, "ours"), "state", "nonexistent")
	if data, _ := os.ReadFile(target); !strings.Contains(string(data), "nonexistent") {
		t.Errorf("--log through our own link wrote nothing to %s: %q", target, data)
	}
	r := ctrLite(t, "--root", root, "--log", "/dev/stderr", "state", "nonexistent")
	if !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("--log /dev/stderr: %s", r)
	}
}

// TestAttackRedirectsConsoleSocketThroughPlantedSymlink: --console-socket
// DIR/sock where another user planted a symlink to a socket of their
// choosing (which would get the container's terminal): refused.
func TestAttackRedirectsConsoleSocketThroughPlantedSymlink(t *testing.T) {
	for kind, dir := range sharedDirs(t) {
		t.Run(kind, func(t *testing.T) {
			b := newBundle(t, "conslink-"+kind, "sleep", "1000")
			b.spec.Process.Terminal = true
			b.write()
			theirs := filepath.Join(t.TempDir(), "theirs.sock")
			l, err := net.ListenUnix("unix", &net.UnixAddr{Name: theirs, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			sock := filepath.Join(dir, "sock")
			plantLink(t, theirs, sock)
			r := b.detached(nil, "create", "--bundle", b.dir, "--console-socket", sock, b.id)
			if r.code == 0 || !strings.Contains(r.stderr, "refusing to follow a symlink") {
				t.Errorf("create through a planted console socket link: %s", r)
			}
			l.SetDeadline(time.Now().Add(200 * time.Millisecond))
			if c, err := l.Accept(); err == nil {
				c.Close()
				t.Errorf("ctr-lite connected to the socket the planted link leads to")
			}
		})
	}
}

// TestAttackPlantsStateUnderSharedRoot: a --root another user can write
// would let them plant a state.json whose poststop hooks delete runs as
// root: refused, whether theirs, world-writable, or reached through their
// symlink. A new root is made 0700.
func TestAttackPlantsStateUnderSharedRoot(t *testing.T) {
	requireRoot(t)
	dirs := sharedDirs(t)
	hookRan := filepath.Join(t.TempDir(), "hook-ran")
	for kind, dir := range dirs {
		// A planted container whose poststop hook would run as root.
		planted := filepath.Join(dir, "planted")
		if err := os.MkdirAll(planted, 0o755); err != nil {
			t.Fatal(err)
		}
		state := `{"id":"planted","pid":0,"config":{"ociVersion":"1.0.2","hooks":{"poststop":[{"path":"/bin/sh","args":["sh","-c","touch ` + hookRan + `"]}]}}}`
		if err := os.WriteFile(filepath.Join(planted, "state.json"), []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
		wantFail(t, []string{"--root", dir, "delete", "--force", "planted"}, "state root", dir)
		wantFail(t, []string{"--root", dir, "list"}, "state root", dir)
		link := filepath.Join(dirs["sticky"], "root-link-"+kind)
		plantLink(t, dir, link)
		wantFail(t, []string{"--root", link, "list"}, link)
	}
	if _, err := os.Stat(hookRan); err == nil {
		t.Errorf("a planted poststop hook ran as root")
	}
	root := filepath.Join(t.TempDir(), "new", "state")
	mustCtrLite(t, "--root", root, "list")
	b := newBundle(t, "newroot", "true")
	b.root = root
	b.mustDetached("create", "--bundle", b.dir, b.id)
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("new state root %s: %v %v, want mode 0700", root, fi.Mode(), err)
	}
	b.must("delete", "--force", b.id)
}
