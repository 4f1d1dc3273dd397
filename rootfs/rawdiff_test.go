package rootfs

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// The differential test: one config set up by the Go steps and by the
// raw ops, each in a process of its own, must give the same container.

const (
	helperEnv = "CTR_LITE_ROOTFS_HELPER" // "go" or "raw": this process is a helper
	configEnv = "CTR_LITE_ROOTFS_CONFIG" // the Config, JSON
	scriptEnv = "CTR_LITE_ROOTFS_SCRIPT" // what busybox sh runs in the new root
	viewEnv   = "CTR_LITE_ROOTFS_VIEW"   // "1": Config.CgroupView is read (ReadCgroupView)
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		os.Exit(rootfsHelper(mode))
	}
	os.Exit(m.Run())
}

// rootfsHelper sets up the root of this process (already in new mount,
// PID, IPC, UTS and network namespaces) from the config in the
// environment with the Go steps or the raw ops, then executes busybox
// sh -c SCRIPT there. It returns only on failure.
func rootfsHelper(mode string) int {
	var c Config
	if err := json.Unmarshal([]byte(os.Getenv(configEnv)), &c); err != nil {
		fmt.Fprintln(os.Stderr, "helper: config:", err)
		return 2
	}
	if os.Getenv(viewEnv) == "1" {
		cv, err := ReadCgroupView()
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: cgroup view:", err)
			return 2
		}
		c.CgroupView = cv
	}
	runtime.LockOSThread()
	switch mode {
	case "go":
		steps, err := ValidatedSteps(c)
		if err == nil {
			err = (&step.Runner{}).Run(steps...)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: go steps:", err)
			return 3
		}
	case "raw":
		p := raw.Prog{Explain: os.Getenv("RAWROOT_EXPLAIN") != ""}
		if err := RawSteps(c, &p); err != nil {
			fmt.Fprintln(os.Stderr, "helper: RawSteps:", err)
			return 3
		}
		before := openFds()
		if i, e := runProg(&p); i >= 0 {
			fmt.Fprintln(os.Stderr, "helper: raw op:", p.Error(i, e))
			return 3
		}
		if after := openFds(); after != before {
			fmt.Fprintf(os.Stderr, "helper: the ops left fds open: before %s, after %s\n", before, after)
			return 3
		}
		runtime.KeepAlive(p.KeepAlive())
	}
	err := syscall.Exec("/bin/busybox", []string{"busybox", "sh", "-c", os.Getenv(scriptEnv)}, []string{"PATH=/bin"})
	fmt.Fprintln(os.Stderr, "helper: exec:", err)
	return 4
}

// openFds lists this process's open fds (/proc/self/fd, read through
// an fd of its own that is closed again).
func openFds() string {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return err.Error()
	}
	var fds []string
	for _, e := range ents {
		fds = append(fds, e.Name())
	}
	return strings.Join(fds, " ")
}

// runInRoot runs a helper for c in mode and returns its output; with
// userns, in a new user namespace mapping ids 0-65535 to themselves
// (root without the host's privileges: no mknod, no cgroup2 mount).
func runInRoot(t *testing.T, mode string, c Config, script string, userns bool) string {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, configEnv+"="+string(data), scriptEnv+"="+script)
	if c.CgroupView != nil {
		cmd.Env = append(cmd.Env, viewEnv+"=1")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWNET}
	if userns {
		cmd.SysProcAttr.Cloneflags |= unix.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s helper: %v\n%s", mode, err, out)
	}
	return string(out)
}

// startRaw runs c's RawSteps ops in a child started by namespaces.Start
// (new mount, PID, IPC, UTS and network namespaces: the raw child of a
// container), then busybox sh -c script there, and returns its output.
func startRaw(t *testing.T, c Config, script string, userns bool) string {
	t.Helper()
	p := &raw.Prog{Explain: os.Getenv("RAWROOT_EXPLAIN") != ""}
	if err := RawSteps(c, p); err != nil {
		t.Fatalf("RawSteps: %v", err)
	}
	sh, err := p.Str("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	argv, err := p.Strs([]string{"busybox", "sh", "-c", script})
	if err != nil {
		t.Fatal(err)
	}
	envp, err := p.Strs([]string{"PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	p.Done(step.Step{Op: "write", Args: "status pipe, done"})
	p.Sys(step.Step{Op: "execve", Args: `"/bin/busybox"`}, unix.SYS_EXECVE, sh, argv, envp)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ns []specs.LinuxNamespace
	for _, k := range []specs.LinuxNamespaceType{"mount", "pid", "ipc", "uts", "network"} {
		ns = append(ns, specs.LinuxNamespace{Type: k})
	}
	nc := &namespaces.Config{Namespaces: ns, Stdout: w, Stderr: w, Prog: p}
	if userns {
		nc.Namespaces = append([]specs.LinuxNamespace{{Type: "user"}}, ns...)
		nc.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
		nc.GIDMappings = nc.UIDMappings
	}
	proc, err := namespaces.Start(nc, nil)
	w.Close()
	if err != nil {
		t.Fatalf("raw child: %v", err)
	}
	out, _ := io.ReadAll(r)
	if st, err := proc.Wait(); err != nil || !st.Success() {
		t.Fatalf("raw child: %v %v\n%s", st, err, out)
	}
	runtime.KeepAlive(p.KeepAlive())
	return string(out)
}

// newTestRootfs makes a busybox rootfs (testdata/mkrootfs.sh; the VM's
// payload names its testdata in CTR_LITE_TESTDATA, as for the
// integration tests).
func newTestRootfs(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "rootfs")
	testdata := "../testdata"
	if p := os.Getenv("CTR_LITE_TESTDATA"); p != "" {
		testdata = p
	}
	if out, err := exec.Command("sh", filepath.Join(testdata, "mkrootfs.sh"), dir).CombinedOutput(); err != nil {
		t.Fatalf("mkrootfs: %v\n%s", err, out)
	}
	return dir
}

var (
	anonDev   = regexp.MustCompile(`^0:\d+$`)
	peerGroup = regexp.MustCompile(`^(shared|master|propagate_from):(\d+)$`)
)

// normalize makes two runs' outputs comparable: mountinfo's mount IDs
// and peer groups numbered in order of appearance, anonymous device
// numbers and the rootfs's host path hidden.
func normalize(out, rootfs string) string {
	ids, groups := map[string]string{}, map[string]string{}
	num := func(m map[string]string, k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		m[k] = fmt.Sprint("#", len(m)+1)
		return m[k]
	}
	// mountinfo's root field is the path inside the mount's file
	// system: where the temporary directory is a mount of its own (a
	// tmpfs /tmp), the rootfs's path shows without its mount point.
	rel := rootfs
	if mp, err := mountPointHolding(rootfs); err == nil && mp != "/" {
		rel = strings.TrimPrefix(rootfs, mp)
	}
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		line = strings.ReplaceAll(line, rootfs, "<rootfs>")
		if f := strings.Fields(line); len(f) > 3 && strings.HasPrefix(f[3], rel) {
			line = strings.Replace(line, " "+rel, " <rootfs>", 1)
		}
		f := strings.Fields(line)
		if len(f) > 6 && strings.Contains(line, " - ") && !strings.Contains(f[0], "/") {
			f[0], f[1] = num(ids, f[0]), num(ids, f[1])
			if anonDev.MatchString(f[2]) {
				f[2] = "0:*"
			}
			for j := 6; j < len(f) && f[j] != "-"; j++ {
				if m := peerGroup.FindStringSubmatch(f[j]); m != nil {
					f[j] = m[1] + ":" + num(groups, m[2])
				}
			}
			line = strings.Join(f, " ")
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// defaultMounts are the mounts `ctr-lite spec` writes (runc spec's).
func defaultMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc"},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}},
	}
}

// TestRawStepsSameRootAsGoSteps sets up each config twice, on two copies
// of one busybox rootfs, with the Go steps and with RawSteps' ops, and
// compares what the container sees: its mount table, /dev, the masked
// and read-only paths, the sysctls written, the cwd made.
func TestRawStepsSameRootAsGoSteps(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: mount namespaces and mounts")
	}
	if why := rawKernelWhy(); why != "" {
		t.Skip(why)
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Skip("needs /bin/busybox (busybox-static)")
	}
	host := t.TempDir()
	for _, d := range []string{"data", "data/sub", "slave", "shared"} {
		if err := os.MkdirAll(filepath.Join(host, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(host, "file.conf"), []byte("x=1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	uid, gid := uint32(1), uint32(2)
	mode := os.FileMode(0o620)
	withBinds := append(defaultMounts(),
		specs.Mount{Destination: "/data", Type: "bind", Source: filepath.Join(host, "data"), Options: []string{"rbind", "ro", "rprivate"}},
		specs.Mount{Destination: "/etc/extra/file.conf", Type: "none", Source: filepath.Join(host, "file.conf"), Options: []string{"bind", "ro", "nosuid", "nodev"}},
		specs.Mount{Destination: "/mnt/slave", Type: "bind", Source: filepath.Join(host, "slave"), Options: []string{"rbind", "rslave", "noexec", "rw"}},
		specs.Mount{Destination: "/mnt/shared", Type: "bind", Source: filepath.Join(host, "shared"), Options: []string{"bind", "rshared", "rro", "rnosuid"}},
		specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777"}},
		specs.Mount{Destination: "/run/ro", Type: "tmpfs", Source: "tmpfs", Options: []string{"ro", "size=1m"}},
		specs.Mount{Destination: "/run/ro/below", Type: "tmpfs", Source: "tmpfs"},
	)
	script := func(c Config) string {
		var b strings.Builder
		b.WriteString("cat /proc/self/mountinfo; echo ==dev; for f in /dev/* /dev/pts/* /dev/net/* /dev/shm/* /dev/mqueue/*; do stat -c '%n|%F|%a|%u:%g|%t:%T|%N' \"$f\"; done\n")
		b.WriteString("echo ==paths\n")
		for _, p := range append(append(append([]string{}, c.MaskedPaths...), c.ReadonlyPaths...), "/etc/extra/file.conf", "/data", c.Cwd) {
			if p == "" {
				continue
			}
			fmt.Fprintf(&b, "stat -c '%%n|%%F|%%a|%%s|%%t:%%T' %s 2>&1; head -c 16 %s 2>&1 | od -c | head -2; touch %s/x 2>&1\n", p, p, p)
		}
		b.WriteString("echo ==proc\n")
		for _, w := range c.ProcWrites {
			fmt.Fprintf(&b, "cat /proc/%s\n", w.Path)
		}
		b.WriteString("echo ==root; touch /x 2>&1; pwd\n")
		return b.String()
	}
	type testCase struct {
		name string
		c    Config
		fds  bool // also run the ops in a helper that lists the fds left open
		// userns: in a user namespace (devices bound from the host,
		// cgroup2 bound from the host's)
		userns bool
	}
	cases := []testCase{
		{name: "default spec", fds: true, c: Config{SetupDev: true, Mounts: defaultMounts(), MaskedPaths: DefaultMaskedPaths(), ReadonlyPaths: DefaultReadonlyPaths()}},
		{name: "binds, masks, sysctls, devices", fds: true, c: Config{SetupDev: true, Mounts: withBinds, Readonly: true, Cwd: "/work/deep/dir",
			MaskedPaths:   append(DefaultMaskedPaths(), "/etc/hostname", "/etc/maskdir", "/nope/missing", "/data/sub"),
			ReadonlyPaths: append(DefaultReadonlyPaths(), "/etc/rodir", "/missing/ro"),
			ProcWrites: []ProcWrite{{Path: "sys/net/ipv4/ip_forward", Value: "1", Why: "sysctl net.ipv4.ip_forward"},
				{Path: "sys/kernel/shm_rmid_forced", Value: "1", Why: "sysctl kernel.shm_rmid_forced"}},
			Devices: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: &mode, UID: &uid, GID: &gid},
				{Path: "/dev/net/tun", Type: "c", Major: 10, Minor: 200}, {Path: "/dev/loop9", Type: "b", Major: 7, Minor: 9}}}},
		{name: "no pivot", c: Config{SetupDev: true, NoPivot: true, Mounts: defaultMounts()[:3], MaskedPaths: []string{"/proc/kcore", "/etc/hostname"}}},
		{name: "rootfsPropagation rshared", c: Config{SetupDev: true, Propagation: "rshared", Mounts: append(defaultMounts()[:2],
			specs.Mount{Destination: "/mnt/shared", Type: "bind", Source: filepath.Join(host, "shared"), Options: []string{"rbind", "rshared"}}),
			ReadonlyPaths: []string{"/etc"}}},
		{name: "rootfsPropagation private", c: Config{Propagation: "private", Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev", "ro"}}}}},
		{name: "mounts over mounts, symlinks in the rootfs", c: Config{SetupDev: true, Cwd: "/link/cwd", Mounts: append(defaultMounts()[:3],
			specs.Mount{Destination: "/a/b/c", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/a", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=700"}},
			specs.Mount{Destination: "/a/b/c", Type: "tmpfs", Source: "tmpfs", Options: []string{"nr_inodes=100"}},
			specs.Mount{Destination: "/link/sub", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/abs/x", Type: "bind", Source: filepath.Join(host, "data"), Options: []string{"rbind"}},
			specs.Mount{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"newinstance", "ptmxmode=0600"}},
			// /up/b/l leads to /up: the second mount hides the first's.
			specs.Mount{Destination: "/up/b/c", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/up/b/l", Type: "tmpfs", Source: "tmpfs"},
			specs.Mount{Destination: "/up/b/c/d", Type: "tmpfs", Source: "tmpfs"}),
			MaskedPaths: []string{"/link/sub", "/abs"}, ReadonlyPaths: []string{"/link"}}},
		{name: "user namespace", userns: true, fds: true, c: Config{SetupDev: true, Mounts: append(defaultMounts()[:6],
			specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup2", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "ro"}}),
			Devices:     []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}},
			MaskedPaths: DefaultMaskedPaths(), ReadonlyPaths: DefaultReadonlyPaths()}},
		{name: "cgroup2", c: Config{Mounts: []specs.Mount{{Destination: "/proc", Type: "proc", Source: "proc"}, {Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "ro"}},
			{Destination: "/sys/fs/cgroup", Type: "cgroup2", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "relatime", "ro"}}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			modes := []string{"go", "start"}
			if tc.fds {
				modes = append(modes, "raw")
			}
			outs := make([]string, len(modes))
			for i, mode := range modes {
				c := tc.c
				c.Rootfs = newTestRootfs(t)
				for _, d := range []string{"etc/maskdir", "etc/rodir", "opt/target"} {
					os.MkdirAll(filepath.Join(c.Rootfs, d), 0o755)
				}
				// In-root symlinks: followed inside the rootfs.
				os.Symlink("opt/target", filepath.Join(c.Rootfs, "link"))
				os.Symlink("/opt", filepath.Join(c.Rootfs, "abs"))
				os.MkdirAll(filepath.Join(c.Rootfs, "up/b"), 0o755)
				os.Symlink("/up", filepath.Join(c.Rootfs, "up/b/l"))
				if hasCgroupMount(c) && !hostUnified() {
					// A helper reads it in its cgroup, the raw child
					// is in this process's: the same one.
					cv, err := ReadCgroupView()
					if err != nil {
						t.Fatal(err)
					}
					c.CgroupView = cv
				}
				if err := c.Validate(); err != nil {
					t.Fatal(err)
				}
				if mode == "start" {
					outs[i] = normalize(startRaw(t, c, script(c), tc.userns), c.Rootfs)
				} else {
					outs[i] = normalize(runInRoot(t, mode, c, script(c), tc.userns), c.Rootfs)
				}
			}
			if os.Getenv("RAWROOT_PEEK") != "" {
				t.Logf("%s", outs[1])
			}
			for i := 1; i < len(outs); i++ {
				if outs[0] != outs[i] {
					t.Errorf("the raw ops (%s) made another root than the Go steps:\n%s", modes[i], lineDiff(outs[0], outs[i]))
				}
			}
			if !strings.Contains(outs[1], "==root") {
				t.Errorf("the script did not run to the end:\n%s", outs[1])
			}
		})
	}
}

func hasCgroupMount(c Config) bool {
	for _, m := range c.Mounts {
		if m.Type == "cgroup" {
			return true
		}
	}
	return false
}

// lineDiff lists the lines that differ, "go:" and "raw:".
func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out strings.Builder
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d\n  go:  %s\n  raw: %s\n", i+1, x, y)
		}
	}
	return out.String()
}
