package rootfs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := func(c Config) Config { c.Rootfs = dir; return c }
	for _, tc := range []struct {
		name string
		c    Config
		err  string // "" means valid
	}{
		{name: "minimal", c: ok(Config{})},
		{name: "everything", c: ok(Config{
			Readonly: true, Propagation: "rslave", SetupDev: true, NoPivot: true,
			Mounts: []specs.Mount{
				{Type: "proc", Source: "proc", Destination: "/proc"},
				{Type: "bind", Source: dir, Destination: "/mnt/x", Options: []string{"rbind", "ro", "rprivate"}},
				{Type: "none", Source: file, Destination: "/etc/f", Options: []string{"bind"}},
			},
			MaskedPaths: DefaultMaskedPaths(), ReadonlyPaths: DefaultReadonlyPaths(),
			Devices: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
		})},
		{name: "no rootfs", c: Config{}, err: "no path given"},
		{name: "relative rootfs", c: Config{Rootfs: "rootfs"}, err: "not absolute"},
		{name: "missing rootfs", c: Config{Rootfs: filepath.Join(dir, "nope")}, err: "no such file or directory"},
		{name: "rootfs is a file", c: Config{Rootfs: file}, err: "not a directory"},
		{name: "unknown propagation", c: ok(Config{Propagation: "sideways"}), err: `unknown propagation "sideways"`},
		{name: "rprivate without pivot_root", c: ok(Config{Propagation: "rprivate", NoPivot: true}), err: "not safe without pivot_root"},
		{name: "private without pivot_root", c: ok(Config{Propagation: "private", NoPivot: true}), err: "not safe without pivot_root"},
		{name: "relative destination", c: ok(Config{Mounts: []specs.Mount{{Type: "tmpfs", Destination: "tmp"}}}), err: `destination "tmp" is not absolute`},
		{name: "no destination", c: ok(Config{Mounts: []specs.Mount{{Type: "tmpfs"}}}), err: "no destination"},
		{name: "mount over root", c: ok(Config{Mounts: []specs.Mount{{Type: "tmpfs", Destination: "/."}}}), err: "over the root"},
		{name: "unknown option", c: ok(Config{Mounts: []specs.Mount{{Type: "tmpfs", Destination: "/tmp", Options: []string{"frobnicate"}}}}), err: `unknown mount option "frobnicate"`},
		{name: "unknown type", c: ok(Config{Mounts: []specs.Mount{{Type: "frobfs", Destination: "/x"}}}), err: `unknown filesystem type "frobfs"`},
		{name: "no type", c: ok(Config{Mounts: []specs.Mount{{Destination: "/x"}}}), err: "no filesystem type"},
		{name: "type bind without option", c: ok(Config{Mounts: []specs.Mount{{Type: "bind", Source: dir, Destination: "/x"}}}), err: "needs a bind or rbind"},
		{name: "relative bind source", c: ok(Config{Mounts: []specs.Mount{{Type: "bind", Source: "data", Destination: "/x", Options: []string{"bind"}}}}), err: "not an absolute host path"},
		{name: "missing bind source", c: ok(Config{Mounts: []specs.Mount{{Type: "bind", Source: "/nonexistent/x", Destination: "/x", Options: []string{"bind"}}}}), err: "no such file"},
		{name: "error names the mount", c: ok(Config{Mounts: []specs.Mount{{Type: "proc", Destination: "/proc"}, {Type: "tmpfs", Destination: "run"}}}), err: "mount 2 (tmpfs on run)"},
		{name: "relative masked path", c: ok(Config{MaskedPaths: []string{"proc/kcore"}}), err: "masked path"},
		{name: "relative readonly path", c: ok(Config{ReadonlyPaths: []string{"proc/sys"}}), err: "readonly path"},
		{name: "bad device type", c: ok(Config{Devices: []specs.LinuxDevice{{Path: "/dev/x", Type: "z"}}}), err: "unknown device type"},
		{name: "relative device", c: ok(Config{Devices: []specs.LinuxDevice{{Path: "dev/x", Type: "c"}}}), err: "not an absolute path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("Validate succeeded, want error %q", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("Validate: %v, want %q", err, tc.err)
			}
			if _, serr := Steps(tc.c); (serr == nil) != (err == nil) {
				t.Errorf("Steps error %v disagrees with Validate %v", serr, err)
			}
		})
	}
}

// TestStepsOrder checks the order runc uses: propagation, self-bind,
// mounts, /dev, masks, readonly paths, root ro, pivot, propagation.
func TestStepsOrder(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		c    Config
		want []string
	}{
		{name: "pivot", c: Config{
			Rootfs: dir, Readonly: true, Propagation: "shared", SetupDev: true,
			Mounts: []specs.Mount{
				{Type: "proc", Destination: "/proc"},
				{Type: "bind", Source: dir, Destination: "/mnt", Options: []string{"bind", "ro", "private"}},
			},
			MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"},
		}, want: []string{
			"statfs", "open /dev/null", "mount / MS_SHARED", "mount <mount MS_PRIVATE", "mount MS_BIND|MS_REC", "open O_PATH",
			"mount proc", "mount MS_BIND", "mount_setattr /mnt MOUNT_ATTR_RDONLY", "mount MS_PRIVATE",
			"mknod /dev/null", "mknod /dev/zero", "mknod /dev/full", "mknod /dev/random", "mknod /dev/urandom", "mknod /dev/tty",
			"symlink /dev/fd", "symlink /dev/stdin", "symlink /dev/stdout", "symlink /dev/stderr", "symlink /dev/ptmx",
			"mount /proc/kcore", "mount /proc/sys", "mount_setattr /proc/sys MOUNT_ATTR_RDONLY",
			"open /", "fchdir", "pivot_root", "fchdir old", "mount MS_SLAVE", "umount2 MNT_DETACH", "chdir",
			"mount / MS_SHARED", "mount_setattr rootfs MOUNT_ATTR_RDONLY",
		}},
		// A read-only /dev is made read-only after what goes below it
		// (runc's finalizeRootfs); rro binds get mount_setattr at once.
		{name: "late read-only", c: Config{
			Rootfs: dir, SetupDev: true,
			Mounts: []specs.Mount{
				{Type: "tmpfs", Destination: "/dev", Options: []string{"nosuid", "ro", "rnoexec"}},
				{Type: "devpts", Destination: "/dev/pts"},
				{Type: "bind", Source: dir, Destination: "/mnt", Options: []string{"rbind", "rro"}},
			},
		}, want: []string{
			"statfs", "mount / MS_REC|MS_SLAVE", "mount <mount MS_PRIVATE", "mount MS_BIND|MS_REC", "open O_PATH",
			"mount tmpfs MS_NOSUID", "open /dev O_PATH", "mount devpts",
			"mount MS_BIND|MS_REC", "mount_setattr /mnt AT_RECURSIVE MOUNT_ATTR_RDONLY",
			"mknod /dev/null", "mknod /dev/zero", "mknod /dev/full", "mknod /dev/random", "mknod /dev/urandom", "mknod /dev/tty",
			"symlink /dev/fd", "symlink /dev/stdin", "symlink /dev/stdout", "symlink /dev/stderr", "symlink /dev/ptmx",
			"open /", "fchdir", "pivot_root", "fchdir old", "mount MS_SLAVE", "umount2 MNT_DETACH", "chdir",
			"mount_setattr /dev MOUNT_ATTR_RDONLY", "mount_setattr /dev AT_RECURSIVE MOUNT_ATTR_NOEXEC",
		}},
		{name: "chroot, slave", c: Config{Rootfs: dir, NoPivot: true, Propagation: "rslave"}, want: []string{
			"statfs", "mount / MS_REC|MS_SLAVE", "mount <mount MS_PRIVATE", "mount MS_BIND|MS_REC", "open",
			"fchdir", "mount MS_MOVE", "chroot", "chdir", "mount / MS_REC|MS_SLAVE",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			steps, err := Steps(tc.c)
			if err != nil {
				t.Fatal(err)
			}
			if len(steps) != len(tc.want) {
				for _, s := range steps {
					t.Log(s)
				}
				t.Fatalf("%d steps, want %d", len(steps), len(tc.want))
			}
			for i, s := range steps {
				words := strings.Fields(tc.want[i])
				if s.Op != words[0] {
					t.Errorf("step %d: %s, want op %s", i, s, words[0])
				}
				for _, w := range words[1:] {
					if !strings.Contains(s.Args, w) {
						t.Errorf("step %d: %s, want args with %q", i, s, w)
					}
				}
				if s.Do == nil || s.Why == "" {
					t.Errorf("step %d: %s has no Do or no Why", i, s)
				}
			}
		})
	}
}

func TestFromSpec(t *testing.T) {
	mode := os.FileMode(0o600)
	spec := &specs.Spec{
		Root: &specs.Root{Path: "rootfs", Readonly: true},
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind"}},
		},
		Linux: &specs.Linux{
			RootfsPropagation: "rslave",
			MaskedPaths:       []string{"/proc/kcore"},
			ReadonlyPaths:     []string{"/proc/sys"},
			Devices:           []specs.LinuxDevice{{Path: "/dev/null", Type: "c", Major: 1, Minor: 3, FileMode: &mode}},
		},
	}
	c, err := FromSpec(spec, "/bundle")
	if err != nil {
		t.Fatal(err)
	}
	if c.Rootfs != "/bundle/rootfs" || !c.Readonly || c.Propagation != "rslave" || !c.SetupDev {
		t.Errorf("config %+v", c)
	}
	if c.Mounts[1].Source != "/bundle/data" || c.Mounts[0].Source != "proc" {
		t.Errorf("mount sources %q %q", c.Mounts[0].Source, c.Mounts[1].Source)
	}
	devs := c.devices()
	if len(devs) != len(DefaultDevices()) {
		t.Fatalf("devices %+v: the spec's /dev/null should replace the default one", devs)
	}
	if last := devs[len(devs)-1]; last.Path != "/dev/null" || *last.FileMode != 0o600 {
		t.Errorf("last device %+v, want the spec's /dev/null", last)
	}

	spec.Mounts = append(spec.Mounts, specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}})
	if c, _ := FromSpec(spec, "/bundle"); c.SetupDev {
		t.Error("SetupDev with /dev bound from the host")
	}
	if _, err := FromSpec(&specs.Spec{}, "/bundle"); err == nil {
		t.Error("FromSpec without root succeeded")
	}
}

// Relative in-container paths are taken under the root, as runc 1.1
// takes them; only a mount destination gets runc's warning.
func TestFromSpecRelativePaths(t *testing.T) {
	spec := &specs.Spec{
		Root: &specs.Root{Path: "rootfs"},
		Mounts: []specs.Mount{
			{Destination: "tmp/x", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "a/../b", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/abs", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "dev", Type: "bind", Source: "/dev", Options: []string{"rbind"}},
		},
		Linux: &specs.Linux{
			MaskedPaths:   []string{"proc/kcore", "/proc/keys"},
			ReadonlyPaths: []string{"proc/sys"},
			Devices:       []specs.LinuxDevice{{Path: "dev/fuse", Type: "c", Major: 10, Minor: 229}},
		},
	}
	c, err := FromSpec(spec, "/bundle")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"/tmp/x", "/b", "/abs", "/dev"} {
		if got := c.Mounts[i].Destination; got != want {
			t.Errorf("mount %d destination %q, want %q", i, got, want)
		}
	}
	if spec.Mounts[0].Destination != "tmp/x" || spec.Linux.MaskedPaths[0] != "proc/kcore" || spec.Linux.Devices[0].Path != "dev/fuse" {
		t.Error("FromSpec changed the spec")
	}
	if c.SetupDev {
		t.Error("SetupDev with /dev bound from the host by a relative destination")
	}
	if strings.Join(c.MaskedPaths, " ") != "/proc/kcore /proc/keys" || c.ReadonlyPaths[0] != "/proc/sys" || c.Devices[0].Path != "/dev/fuse" {
		t.Errorf("masked %q readonly %q devices %+v", c.MaskedPaths, c.ReadonlyPaths, c.Devices)
	}
	if len(c.Warnings) != 3 || !strings.HasPrefix(c.Warnings[0], "mount destination tmp/x is not absolute. Support for non-absolute") {
		t.Errorf("warnings %q, want runc's for tmp/x, a/../b and dev", c.Warnings)
	}
}
