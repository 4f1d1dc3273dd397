package integration

// Attacks on the runtime's use of paths the container's side can change
// while it works (issue 12 §1): a process on the host side of a shared
// directory swaps what the runtime just made for a symlink to a host
// file. Every step after the first must act on the fd, never on the
// path again.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// swapper replaces, as fast as it can, every entry of names in dir that
// is not a symlink with a symlink to target (rename(2) over it, atomic),
// until stop is called. It counts the swaps it made.
func swapper(t *testing.T, dir string, names []string, target string) (stop func() int64) {
	t.Helper()
	var done atomic.Bool
	var swaps atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			tmp := filepath.Join(dir, fmt.Sprintf(".swap%d", w))
			for !done.Load() {
				for i := w; i < len(names); i += 2 {
					p := filepath.Join(dir, names[i])
					var st unix.Stat_t
					if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT == unix.S_IFLNK {
						continue
					}
					os.Remove(tmp)
					if os.Symlink(target, tmp) == nil && os.Rename(tmp, p) == nil {
						swaps.Add(1)
					}
				}
			}
		}(w)
	}
	return func() int64 {
		done.Store(true)
		wg.Wait()
		return swaps.Load()
	}
}

// hostVictim is a host file, mode 0600 root:root, that no container
// setup may change.
func hostVictim(t *testing.T) string {
	t.Helper()
	v := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(v, []byte("host secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(v, 0, 0); err != nil {
		t.Fatal(err)
	}
	return v
}

func wantVictimUntouched(t *testing.T, v string) {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(v, &st); err != nil {
		t.Fatal(err)
	}
	if st.Mode&0o7777 != 0o600 || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("host file %s is now mode %#o owner %d:%d, want 0600 0:0: the runtime followed a swapped symlink",
			v, st.Mode&0o7777, st.Uid, st.Gid)
	}
}

// TestAttackSwapsDeviceNodeForSymlinkToHostFile: linux.devices puts
// nodes in a directory shared with the host; the host side swaps each
// new node for a symlink to a host file between the runtime's mknod and
// its chmod/chown. The host file's mode and owner never change; create
// either works (the swap came late or early) or refuses the swapped node.
func TestAttackSwapsDeviceNodeForSymlinkToHostFile(t *testing.T) {
	b := newBundle(t, "devswap", "true")
	shared := b.hostDir("/shared")
	victim := hostVictim(t)
	mode := os.FileMode(0o666)
	owner := uint32(4242)
	var names []string
	b.spec.Linux.Devices = nil
	for i := 0; i < 100; i++ {
		names = append(names, fmt.Sprintf("d%d", i))
		b.spec.Linux.Devices = append(b.spec.Linux.Devices, specs.LinuxDevice{
			Path: "/shared/" + names[i], Type: "c", Major: 1, Minor: 3, FileMode: &mode, UID: &owner, GID: &owner})
	}
	b.write()
	var swaps int64
	for run := 0; run < 20 && !t.Failed(); run++ {
		stop := swapper(t, shared, names, victim)
		b.ctr("run", "-b", b.dir, b.id)
		swaps += stop()
		b.ctr("delete", "--force", b.id)
		ents, _ := os.ReadDir(shared)
		for _, e := range ents {
			os.Remove(filepath.Join(shared, e.Name()))
		}
		wantVictimUntouched(t, victim)
	}
	if swaps == 0 {
		t.Errorf("the swapper never swapped a node: the test proved nothing")
	}
	t.Logf("%d nodes swapped for symlinks", swaps)
}

// TestAttackSwapsBindTargetBeforeReadOnlyRemount: a bind mount with "ro"
// is a bind and then a read-only remount. Its target is in a directory
// shared with the host; the host side exchanges the target directory
// (renameat2 RENAME_EXCHANGE: the mount stays on the directory, which
// moves) with a symlink to the shared directory's own mount, so a
// remount that finds the target by path again makes the wrong mount
// read-only and leaves the "ro" data writable. Every mount of the data
// in the container must be read-only, whatever the swapper did.
func TestAttackSwapsBindTargetBeforeReadOnlyRemount(t *testing.T) {
	b := newBundle(t, "roswap", "true")
	shared := b.hostDir("/v")
	data := t.TempDir()
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/v/ro", Type: "bind", Source: data,
		Options: []string{"bind", "ro"}})
	b.write()
	var dataSt unix.Stat_t
	if err := unix.Stat(data, &dataSt); err != nil {
		t.Fatal(err)
	}
	dev := fmt.Sprintf("%d:%d", unix.Major(dataSt.Dev), unix.Minor(dataSt.Dev))
	var swaps, created int64
	for run := 0; run < 30 && !t.Failed(); run++ {
		ents, _ := os.ReadDir(shared)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(shared, e.Name()))
		}
		lnk := filepath.Join(shared, "lnk")
		if err := os.Symlink("/v", lnk); err != nil {
			t.Fatal(err)
		}
		var done atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			ro := filepath.Join(shared, "ro")
			for !done.Load() {
				if unix.Renameat2(unix.AT_FDCWD, ro, unix.AT_FDCWD, lnk, unix.RENAME_EXCHANGE) == nil {
					atomic.AddInt64(&swaps, 1)
				}
			}
		}()
		r := b.detached(nil, "create", "-b", b.dir, b.id)
		done.Store(true)
		wg.Wait()
		if r.code == 0 {
			created++
			st := b.state(b.id)
			mi, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", st.Pid))
			if err != nil {
				t.Fatal(err)
			}
			for _, line := range strings.Split(string(mi), "\n") {
				f := strings.Fields(line)
				// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS ...
				if len(f) < 6 || f[2] != dev || f[3] == "/" || !strings.HasSuffix(data, f[3]) {
					continue
				}
				if !hasOpts(f[5], "ro") {
					t.Errorf("run %d: the \"ro\" bind of %s is writable in the container at %s:\n%s", run, data, f[4], line)
				}
			}
		}
		b.ctr("delete", "--force", b.id)
	}
	t.Logf("%d creates succeeded, %d exchanges", created, swaps)
	if created == 0 || swaps == 0 {
		t.Errorf("no create succeeded or nothing was swapped: the test proved nothing")
	}
}

// TestAttackSwapsTmpcopyupTarget: tmpcopyup mounts a tmpfs and copies
// into it what it covers. Its target is in a directory shared with the
// host; the host side exchanges the target with a symlink to the shared
// directory itself, so a runtime that finds the new tmpfs by path again
// copies into, and chmods, the host's directory. The host directory
// keeps its mode and gets no copied file.
func TestAttackSwapsTmpcopyupTarget(t *testing.T) {
	b := newBundle(t, "cuswap", "true")
	shared := b.hostDir("/v")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/v/cu", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"tmpcopyup", "ro"}})
	b.write()
	var swaps, created int64
	for run := 0; run < 30 && !t.Failed(); run++ {
		ents, _ := os.ReadDir(shared)
		for _, e := range ents {
			os.RemoveAll(filepath.Join(shared, e.Name()))
		}
		os.Chmod(shared, 0o777)
		cu := filepath.Join(shared, "cu")
		if err := os.Mkdir(cu, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(cu, 0o700)
		if err := os.WriteFile(filepath.Join(cu, "copied"), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		lnk := filepath.Join(shared, "lnk")
		if err := os.Symlink("/v", lnk); err != nil {
			t.Fatal(err)
		}
		var done atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !done.Load() {
				if unix.Renameat2(unix.AT_FDCWD, cu, unix.AT_FDCWD, lnk, unix.RENAME_EXCHANGE) == nil {
					atomic.AddInt64(&swaps, 1)
				}
			}
		}()
		r := b.detached(nil, "create", "-b", b.dir, b.id)
		done.Store(true)
		wg.Wait()
		if r.code == 0 {
			created++
		}
		b.ctr("delete", "--force", b.id)
		fi, err := os.Stat(shared)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o777 {
			t.Errorf("run %d: the shared host directory is now mode %#o, want 0777: tmpcopyup chmodded it", run, fi.Mode().Perm())
		}
		if _, err := os.Lstat(filepath.Join(shared, "copied")); err == nil {
			t.Errorf("run %d: tmpcopyup copied into the shared host directory", run)
		}
	}
	t.Logf("%d creates succeeded, %d exchanges", created, swaps)
	if swaps == 0 {
		t.Errorf("nothing was swapped: the test proved nothing")
	}
}
