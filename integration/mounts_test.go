package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// sharedHostDir makes a fresh host directory a shared mount of its own
// (mount --bind d d; mount --make-shared d), as kubelet does for a volume
// with mount propagation, and unmounts it and everything below at the end.
func sharedHostDir(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	if err := unix.Mount(d, d, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind %s onto itself: %v", d, err)
	}
	t.Cleanup(func() {
		// Lazily, top first: the mounts below it go with it.
		for _, m := range mountsUnder(t, d) {
			unix.Unmount(m, unix.MNT_DETACH)
		}
		unix.Unmount(d, unix.MNT_DETACH)
		if left := mountsUnder(t, d); len(left) > 0 {
			t.Errorf("host dir still has mounts: %v", left)
		}
	})
	if err := unix.Mount("", d, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make %s shared: %v", d, err)
	}
	return d
}

// TestOrchestratorMountsVolumeWithPropagation: a host directory bound into
// a container the way the CRI asks for each mount propagation mode
// (containerd sets the mount option and rootfsPropagation). A mount made
// on the host after the container started shows inside for
// HostToContainer (rslave) and Bidirectional (rshared), not for private;
// a mount made inside shows on the host only for Bidirectional.
func TestOrchestratorMountsVolumeWithPropagation(t *testing.T) {
	for _, tc := range []struct {
		name, option, rootProp string
		hostToCtr, ctrToHost   bool
	}{
		{name: "private", option: "rprivate", hostToCtr: false, ctrToHost: false},
		{name: "host-to-container", option: "rslave", rootProp: "rslave", hostToCtr: true, ctrToHost: false},
		{name: "bidirectional", option: "rshared", rootProp: "rshared", hostToCtr: true, ctrToHost: true},
		// runc's default root propagation is rslave: a plain rslave
		// bind without rootfsPropagation still gets the host's mounts.
		{name: "rslave-default-root", option: "rslave", hostToCtr: true, ctrToHost: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := sharedHostDir(t)
			b := newBundle(t, "prop-"+tc.name, "sleep", "1000")
			b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: d,
				Options: []string{"rbind", "rw", tc.option}})
			b.spec.Linux.RootfsPropagation = tc.rootProp
			b.write()
			b.mustDetached("run", "-d", "-b", b.dir, b.id)

			// Host to container: a tmpfs mounted on the host now.
			if err := os.Mkdir(filepath.Join(d, "fromhost"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := unix.Mount("tmpfs", filepath.Join(d, "fromhost"), "tmpfs", 0, ""); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(d, "fromhost", "marker"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			r := b.ctr("exec", b.id, "test", "-e", "/vol/fromhost/marker")
			if got := r.code == 0; got != tc.hostToCtr {
				t.Errorf("%s: host mount seen inside = %v, want %v", tc.name, got, tc.hostToCtr)
			}

			// Container to host: a tmpfs mounted inside now.
			b.must("exec", "--cap", "CAP_SYS_ADMIN", b.id, "sh", "-c",
				"mkdir /vol/fromctr && mount -t tmpfs tmpfs /vol/fromctr && touch /vol/fromctr/marker")
			_, err := os.Stat(filepath.Join(d, "fromctr", "marker"))
			if got := err == nil; got != tc.ctrToHost {
				t.Errorf("%s: container mount seen on the host = %v, want %v", tc.name, got, tc.ctrToHost)
			}
			// Nothing but the shared volume's own mounts reach the host.
			for _, m := range mountsUnder(t, "/") {
				if strings.HasPrefix(m, b.dir) {
					t.Errorf("container mount %s reached the host", m)
				}
			}

			b.must("delete", "--force", b.id)
		})
	}
}

// hostDirWithSubmount makes a host directory with a tmpfs mounted at
// sub/ below it, unmounted at the end.
func hostDirWithSubmount(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	sub := filepath.Join(d, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "mode=0777"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
	return d
}

// TestUserBindsDirRecursivelyReadOnly: rro (runtime-spec config.md, runc
// 1.1) makes a bind and every mount below it read-only, with
// mount_setattr(2) AT_RECURSIVE; plain ro leaves the submount writable.
// The other recursive options are accepted and reach the kernel.
func TestUserBindsDirRecursivelyReadOnly(t *testing.T) {
	d := hostDirWithSubmount(t)
	script := `touch /data/x 2>/dev/null; echo top=$?; touch /data/sub/y 2>/dev/null; echo sub=$?; ` +
		`grep -E ' /data(/sub)? ' /proc/self/mountinfo`
	for _, tc := range []struct {
		name string
		opts []string
		want string
		// options every mountinfo line of /data and /data/sub shows
		mountOpts []string
	}{
		{name: "rro", opts: []string{"rbind", "rro"}, want: "top=1\nsub=1\n", mountOpts: []string{"ro"}},
		{name: "ro", opts: []string{"rbind", "ro"}, want: "top=1\nsub=0\n"},
		{name: "rnosuid-rnodev-rnoexec-rnoatime", opts: []string{"rbind", "rw", "rnosuid", "rnodev", "rnoexec", "rnoatime"},
			want: "top=0\nsub=0\n", mountOpts: []string{"rw", "nosuid", "nodev", "noexec", "noatime"}},
		{name: "rro-then-rrw", opts: []string{"rbind", "rro", "rrw"}, want: "top=0\nsub=0\n", mountOpts: []string{"rw"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "rro-"+tc.name, "sh", "-c", script)
			b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: d, Options: tc.opts})
			b.write()
			r := b.ctr("run", "-b", b.dir, b.id)
			if r.code != 0 {
				t.Fatalf("run with %v: %s", tc.opts, r)
			}
			if !strings.HasPrefix(r.stdout, tc.want) {
				t.Errorf("options %v: writes gave\n%s\nwant prefix\n%s", tc.opts, r.stdout, tc.want)
			}
			lines := strings.Split(strings.TrimSpace(strings.TrimPrefix(r.stdout, tc.want)), "\n")
			if len(lines) != 2 {
				t.Fatalf("want the mountinfo lines of /data and /data/sub, got %q", lines)
			}
			for _, l := range lines {
				f := strings.Fields(l)
				if len(f) < 6 || !hasOpts(f[5], tc.mountOpts...) {
					t.Errorf("options %v: mount %q lacks %v", tc.opts, l, tc.mountOpts)
				}
			}
		})
	}
	b := newBundle(t, "idmap", "true")
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: d, Options: []string{"rbind", "idmap"}})
	b.write()
	b.fail([]string{"run", "-b", b.dir, b.id}, "idmap", "idmapped mounts are not supported")
}

// TestUserRunsWithReadOnlyDev: a read-only tmpfs on /dev still gets
// /dev/pts, /dev/shm, /dev/mqueue, the device nodes and links below it
// (and the console), then is read-only: runc mounts it read-write and
// remounts it read-only at the end (finalizeRootfs). The same for any
// read-only mount with mounts below it.
func TestUserRunsWithReadOnlyDev(t *testing.T) {
	script := `test -c /dev/null && test -c /dev/urandom && test -e /dev/pts/ptmx && test -L /dev/ptmx && ` +
		`test -L /dev/fd && test -d /dev/shm && test -d /dev/mqueue && test -d /run/inner && echo made; ` +
		`touch /dev/x 2>/dev/null; echo dev=$?; touch /run/x 2>/dev/null; echo run=$?; ` +
		`touch /dev/shm/x && echo shm-writable; grep -E ' /(dev|run) ' /proc/self/mountinfo | cut -d' ' -f5,6`
	b := newBundle(t, "rodev", "sh", "-c", script)
	for i, m := range b.spec.Mounts {
		if m.Destination == "/dev" {
			b.spec.Mounts[i].Options = append(m.Options, "ro")
		}
	}
	// Not a tmpfs: read-only at once unless something goes below it.
	b.spec.Mounts = append(b.spec.Mounts,
		specs.Mount{Destination: "/run", Type: "proc", Source: "proc", Options: []string{"ro"}},
		specs.Mount{Destination: "/run/inner", Type: "tmpfs", Source: "tmpfs"})
	b.spec.Mounts[len(b.spec.Mounts)-2].Type = "tmpfs"
	b.write()
	r := b.ctr("run", "-b", b.dir, b.id)
	want := "made\ndev=1\nrun=1\nshm-writable\n/dev ro,"
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "\n/run ro,") {
		t.Errorf("read-only /dev: want output starting %q and /run ro:\n%s", want, r)
	}
	// With a terminal, /dev/console is bound after the pivot, before
	// /dev turns read-only.
	b.spec.Process.Terminal = true
	b.spec.Process.Args = []string{"sh", "-c", `test -c /dev/console && tty && touch /dev/x 2>/dev/null; echo dev=$?`}
	b.write()
	r = b.ctr("run", "-b", b.dir, b.id)
	if got := strings.ReplaceAll(r.stdout, "\r", ""); r.code != 0 || got != "/dev/pts/0\ndev=1\n" {
		t.Errorf("read-only /dev with a terminal: want \"/dev/pts/0\\ndev=1\\n\":\n%s", r)
	}
	b.wantNothingLeft()
}

// userNS puts b's container in a new user namespace where root is the
// host's root but no other host uid below 200001 is mapped: root there has
// no capability over files of uid 1234.
func userNS(b *bundle) {
	b.spec.Linux.Namespaces = append(b.spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1}, {ContainerID: 1, HostID: 200001, Size: 65535}}
	b.spec.Linux.UIDMappings, b.spec.Linux.GIDMappings = m, m
}

// TestUserMountsSourceOnlyHostRootReachesInUserNamespace: with a user
// namespace, a bind source below another user's 0700 directory is still
// mounted (the runtime opens it, as the host's root, in the container's
// mount namespace, and the init binds from the fd: runc 1.1's mountFds);
// and the cgroup mount, which the kernel refuses in a user namespace
// without a cgroup namespace of its own, falls back to a bind of the
// host's hierarchies, as runc does.
func TestUserMountsSourceOnlyHostRootReachesInUserNamespace(t *testing.T) {
	priv := filepath.Join(t.TempDir(), "home")
	data := filepath.Join(priv, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("reached\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(priv, 1234, 1234); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(priv, 0o700); err != nil {
		t.Fatal(err)
	}
	b := newBundle(t, "userns-src", "sh", "-c", "cat /data/f")
	userNS(b)
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: data, Options: []string{"rbind", "ro"}})
	b.write()
	if r := b.ctr("run", "-b", b.dir, b.id); r.code != 0 || r.stdout != "reached\n" {
		t.Errorf("bind of a source below a 0700 directory of uid 1234, in a user namespace: want \"reached\":\n%s", r)
	}

	// No cgroup namespace: the cgroup mount falls back to binds.
	b.spec.Mounts = b.spec.Mounts[:len(b.spec.Mounts)-1]
	var ns []specs.LinuxNamespace
	for _, n := range b.spec.Linux.Namespaces {
		if n.Type != specs.CgroupNamespace {
			ns = append(ns, n)
		}
	}
	b.spec.Linux.Namespaces = ns
	haveCgroupMount := false
	for _, m := range b.spec.Mounts {
		haveCgroupMount = haveCgroupMount || m.Type == "cgroup"
	}
	if !haveCgroupMount {
		t.Fatal("the default spec has no cgroup mount")
	}
	b.spec.Process.Args = []string{"sh", "-c",
		`(test -e /sys/fs/cgroup/memory/memory.limit_in_bytes || test -e /sys/fs/cgroup/cgroup.controllers) && echo cgroup-mounted; ` +
			`touch /sys/fs/cgroup/x 2>/dev/null; echo ro=$?`}
	b.write()
	if r := b.ctr("run", "-b", b.dir, b.id); r.code != 0 || r.stdout != "cgroup-mounted\nro=1\n" {
		t.Errorf("cgroup mount in a user namespace without a cgroup namespace: want \"cgroup-mounted\\nro=1\\n\":\n%s", r)
	}
	b.wantNothingLeft()
}

// TestUserGetsPrivateRootPropagationWithoutPivotRefused: runc 1.1 refuses
// rootfsPropagation private or rprivate with --no-pivot; so does create.
func TestUserGetsPrivateRootPropagationWithoutPivotRefused(t *testing.T) {
	b := newBundle(t, "nopivot-private", "true")
	b.spec.Linux.RootfsPropagation = "rprivate"
	b.write()
	b.fail([]string{"run", "--no-pivot", "-b", b.dir, b.id}, `run "`+b.id+`"`, "rprivate", "not safe without pivot_root")
	b.wantNothingLeft()
	// With pivot_root, or another propagation, it runs.
	b.must("run", "-b", b.dir, b.id)
	b.spec.Linux.RootfsPropagation = "rslave"
	b.write()
	b.must("run", "--no-pivot", "-b", b.dir, b.id)
}

// TestUserMountsAtRelativeDestinations: runc 1.1 takes in-container
// paths that are relative as under the new root. A mount destination
// gets its warning (libcontainer/specconv) and is mounted; masked and
// read-only paths and devices are taken silently. ctr-lite refused them
// all. create --dry-run warns too; the run's warning is one line.
func TestUserMountsAtRelativeDestinations(t *testing.T) {
	script := `grep -E ' /(mnt/rel|proc/sys|proc/timer_list) ' /proc/self/mountinfo | cut -d' ' -f5,6; ` +
		`test -c /dev/relnull && echo dev`
	b := newBundle(t, "reldest", "sh", "-c", script)
	b.spec.Root.Readonly = false
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: "mnt/rel", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
	b.spec.Linux.MaskedPaths = []string{"proc/timer_list"}
	b.spec.Linux.ReadonlyPaths = []string{"proc/sys"}
	mode := os.FileMode(0o666)
	b.spec.Linux.Devices = []specs.LinuxDevice{{Path: "dev/relnull", Type: "c", Major: 1, Minor: 3, FileMode: &mode}}
	b.write()
	warning := "ctr-lite: warning: mount destination mnt/rel is not absolute. " +
		"Support for non-absolute mount destinations will be removed in a future release.\n"
	r := b.ctr("run", "-b", b.dir, b.id)
	if r.code != 0 || r.stderr != warning {
		t.Fatalf("run: want exit 0 and only runc's warning %q:\n%s", warning, r)
	}
	for _, want := range []string{"/mnt/rel rw,", "/proc/sys ro,", "/proc/timer_list ", "dev\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = b.ctr("create", "--dry-run", "-b", b.dir, b.id)
	if r.code != 0 || r.stderr != warning || !strings.Contains(r.stdout, "/mnt/rel") {
		t.Errorf("create --dry-run: want exit 0, the warning and a mount on /mnt/rel:\n%s", r)
	}
	b.wantNothingLeft()
}
