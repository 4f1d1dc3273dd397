package rootfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// trapNames: the system call each op's description must name.
var trapNames = map[uintptr]string{
	unix.SYS_OPENAT: "open", unix.SYS_OPENAT2: "openat2", unix.SYS_MKDIRAT: "mkdirat", unix.SYS_CLOSE: "close",
	unix.SYS_MOUNT: "mount", unix.SYS_MOVE_MOUNT: "move_mount", unix.SYS_MOUNT_SETATTR: "mount_setattr",
	unix.SYS_OPEN_TREE: "open_tree", unix.SYS_FSOPEN: "fsopen", unix.SYS_FSCONFIG: "fsconfig", unix.SYS_FSMOUNT: "fsmount",
	unix.SYS_STATX: "statx", sysFstatfs: "fstatfs", unix.SYS_MKNODAT: "mknodat", unix.SYS_UMASK: "umask",
	unix.SYS_FCHOWNAT: "fchownat", unix.SYS_SYMLINKAT: "symlinkat", unix.SYS_UNLINKAT: "unlinkat",
	unix.SYS_WRITE: "write", unix.SYS_FCHDIR: "fchdir", unix.SYS_PIVOT_ROOT: "pivot_root", unix.SYS_UMOUNT2: "umount2",
	unix.SYS_CHDIR: "chdir", unix.SYS_CHROOT: "chroot", raw.Eq: "check", raw.Goto: "", raw.Fail: "",
}

func rawProg(t *testing.T, c Config) *raw.Prog {
	t.Helper()
	p := &raw.Prog{}
	if err := RawSteps(c, p); err != nil {
		t.Fatalf("RawSteps: %v", err)
	}
	return p
}

// checkProg checks what every program must hold: each op described by
// its own system call, every jump forward and in range, every register
// read after it is written, and every fd register closed by the end.
func checkProg(t *testing.T, p *raw.Prog) {
	t.Helper()
	written := map[raw.Reg]bool{}
	lastUse := map[raw.Reg]int{}
	for i, o := range p.Ops {
		name, ok := trapNames[o.Trap]
		if !ok {
			t.Errorf("op %d: trap %d not known to the test", i, o.Trap)
		} else if got := p.Steps[i].Op; !strings.HasPrefix(got, name) {
			t.Errorf("op %d: trap %s described as %q", i, name, got)
		}
		if o.Trap == raw.Goto || o.Else[0] != 0 {
			if int(o.Jump) <= i || int(o.Jump) > len(p.Ops) {
				t.Errorf("op %d (%s): jump to %d", i, p.Steps[i].Op, o.Jump)
			}
		}
		for _, r := range append(o.In[:], o.If) {
			if r == 0 {
				continue
			}
			if !written[r] {
				t.Errorf("op %d (%s %s): register %d read before it is written", i, p.Steps[i].Op, p.Steps[i].Args, r)
			}
			lastUse[r] = i
		}
		if o.Out != 0 {
			written[o.Out] = true
			lastUse[o.Out] = i
		}
	}
	for r, i := range lastUse {
		if o := p.Ops[i]; o.Trap != unix.SYS_CLOSE && o.Trap != unix.SYS_UMASK {
			t.Errorf("register %d: last used by op %d (%s %s), not closed", r, i, p.Steps[i].Op, p.Steps[i].Args)
		}
	}
}

// calls lists the ops that change something, "op args", in order.
func calls(p *raw.Prog, ops ...string) []string {
	var out []string
	for _, st := range p.Steps {
		for _, o := range ops {
			if st.Op == o || strings.HasPrefix(st.Op, o+" ") {
				out = append(out, st.Op+" "+st.Args)
			}
		}
	}
	return out
}

func TestRawStepsOrder(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	src := filepath.Join(dir, "src")
	for _, d := range []string{root, src} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c := Config{Rootfs: root, SetupDev: true, Readonly: true, Propagation: "rshared", Cwd: "/w",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"ro", "nodev"}},
			{Destination: "/sys/x", Type: "tmpfs", Source: "tmpfs"},
			{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro", "rslave", "rnosuid"}},
			{Destination: "/etc/f", Type: "bind", Source: file, Options: []string{"bind"}},
		},
		MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"},
		ProcWrites: []ProcWrite{{Path: "sys/net/ipv4/ip_forward", Value: "1", Why: "sysctl net.ipv4.ip_forward"}},
	}
	p := rawProg(t, c)
	checkProg(t, p)
	real, _ := filepath.EvalSymlinks(root)
	h := func(p string) string { return `"` + real + p + `"` }
	mp, err := mountPointHolding(real)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`mount NULL, "/", NULL, MS_REC|MS_SHARED`,
		`mount NULL, "` + mp + `", NULL, MS_PRIVATE`,
		`mount ` + h("") + `, ` + h("") + `, NULL, MS_BIND|MS_REC`,
		`move_mount <mount on ` + real + `/proc>, ` + h("/proc"),
		`move_mount <mount on ` + real + `/dev>, ` + h("/dev"),
		`move_mount <mount on ` + real + `/sys>, ` + h("/sys"),
		`move_mount <mount on ` + real + `/sys/x>, ` + h("/sys/x"),
		`move_mount "` + src + `", ` + h("/data"),
		`mount_setattr <mount on ` + real + `/data>, "", AT_EMPTY_PATH, set MOUNT_ATTR_RDONLY`,
		`mount_setattr <mount on ` + real + `/data>, "", AT_EMPTY_PATH|AT_RECURSIVE, propagation MS_SLAVE`,
		`mount_setattr <mount on ` + real + `/data>, "", AT_EMPTY_PATH|AT_RECURSIVE, set MOUNT_ATTR_NOSUID`,
		`move_mount "` + file + `", ` + h("/etc/f"),
		`mknodat ` + h("/dev/null") + `, S_IFCHR|0666, 1:3`,
		`mknodat ` + h("/dev/zero") + `, S_IFCHR|0666, 1:5`,
		`mknodat ` + h("/dev/full") + `, S_IFCHR|0666, 1:7`,
		`mknodat ` + h("/dev/random") + `, S_IFCHR|0666, 1:8`,
		`mknodat ` + h("/dev/urandom") + `, S_IFCHR|0666, 1:9`,
		`mknodat ` + h("/dev/tty") + `, S_IFCHR|0666, 5:0`,
		`symlinkat "/proc/self/fd", ` + h("/dev/fd"),
		`symlinkat "/proc/self/fd/0", ` + h("/dev/stdin"),
		`symlinkat "/proc/self/fd/1", ` + h("/dev/stdout"),
		`symlinkat "/proc/self/fd/2", ` + h("/dev/stderr"),
		`symlinkat "pts/ptmx", ` + h("/dev/ptmx"),
		`write ` + real + `/proc/sys/net/ipv4/ip_forward "1"`,
		`move_mount <read-only tmpfs>, ` + h("/proc/kcore"),
		`move_mount "/dev/null", ` + h("/proc/kcore"),
		`move_mount ` + h("/proc/sys") + `, ` + h("/proc/sys"),
		`mount_setattr <bind on ` + real + `/proc/sys>, "", AT_EMPTY_PATH, set MOUNT_ATTR_RDONLY`,
		`pivot_root ".", "."`,
		`mount NULL, ".", NULL, MS_SLAVE|MS_REC`,
		`umount2 ".", MNT_DETACH`,
		`chdir "/"`,
		`mount NULL, "/", NULL, MS_REC|MS_SHARED`,
		`mount_setattr <pinned /sys>, "", AT_EMPTY_PATH, set MOUNT_ATTR_RDONLY`,
		`mount_setattr <rootfs ` + real + `>, "", AT_EMPTY_PATH, set MOUNT_ATTR_RDONLY`,
	}
	got := calls(p, "move_mount", "mount_setattr", "mknodat", "symlinkat", "write", "pivot_root", "umount2", "chdir", "mount")
	var kept []string
	for _, g := range got {
		// The mkdir -p fallbacks and the bind of a host node where
		// mknod is refused are in the program too; list the main path.
		if !strings.Contains(g, "(EEXIST") && !strings.HasPrefix(g, "move_mount \"/dev/") || strings.Contains(g, "/proc/kcore") {
			kept = append(kept, g)
		}
	}
	got = kept
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The late /sys: mounted without MS_RDONLY, pinned in its own
	// register until the final mount_setattr.
	for i, st := range p.Steps {
		if st.Op == "fsmount" && strings.Contains(p.Steps[i+2].Args, "/sys>") && !strings.Contains(p.Steps[i+2].Args, "/sys/x") {
			if !strings.HasSuffix(st.Args, ">, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV") {
				t.Errorf("late /sys mounted %s, want it writable until the end", st.Args)
			}
		}
	}
}

func TestRawStepsBranches(t *testing.T) {
	root := t.TempDir()
	c := Config{Rootfs: root, MaskedPaths: []string{"/proc/kcore"}, ReadonlyPaths: []string{"/proc/sys"}, Cwd: "/a/b"}
	p := rawProg(t, c)
	checkProg(t, p)
	find := func(from int, op, args string) int {
		for i := from; i < len(p.Ops); i++ {
			if p.Steps[i].Op == op && strings.Contains(p.Steps[i].Args, args) {
				return i
			}
		}
		t.Fatalf("no %s %s after op %d", op, args, from)
		return -1
	}
	// The cwd: a fast in-root open; else its parent opened and the last
	// component made; else each component made from the root.
	fast := find(0, "openat2", "/a/b")
	parent := int(p.Ops[fast].Jump)
	if e := p.Ops[fast].Else; e[0] != unix.ENOENT || p.Steps[parent].Op != "openat2" || !strings.HasSuffix(p.Steps[parent].Args, `/a", O_PATH|O_DIRECTORY, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS`) {
		t.Errorf("cwd open: else %v -> %s %s, want ENOENT -> open of /a", e, p.Steps[parent].Op, p.Steps[parent].Args)
	}
	// No ancestor: the root opened again, each component made from it.
	if e, j := p.Ops[parent].Else, p.Ops[parent].Jump; e[0] != unix.ENOENT || p.Steps[j].Op != "openat2" || p.Steps[j+1].Op != "mkdirat" || !strings.Contains(p.Steps[j+1].Args, `/a"`) {
		t.Errorf("cwd parent open: else %v -> %s %s, %s %s, want ENOENT -> open of the root, mkdirat /a", e, p.Steps[j].Op, p.Steps[j].Args, p.Steps[j+1].Op, p.Steps[j+1].Args)
	}
	for _, part := range []string{"/a\"", "/a/b\""} {
		mk := find(parent, "mkdirat", part)
		if p.Ops[mk].Else[0] != unix.EEXIST || int(p.Ops[mk].Jump) != mk+1 {
			t.Errorf("mkdirat %s: else %v -> %d, want EEXIST -> next", part, p.Ops[mk].Else, p.Ops[mk].Jump)
		}
	}
	// The mask: missing (ENOENT) skips it all; not a directory (ENOTDIR)
	// binds /dev/null; a directory gets a read-only tmpfs.
	open := find(0, "openat2", "/proc/kcore")
	if j := int(p.Ops[open].Jump); p.Ops[open].Else[0] != unix.ENOENT || j != find(open, "openat2", "/proc/sys") {
		t.Errorf("missing masked path: else %v -> op %d, want ENOENT -> the readonly path's open", p.Ops[open].Else, j)
	}
	dirCheck := open + 1
	if p.Steps[dirCheck].Op != "openat" || p.Ops[dirCheck].Else[0] != unix.ENOTDIR || p.Steps[p.Ops[dirCheck].Jump].Op != "open_tree" {
		t.Errorf("mask type check: %s else %v -> %s", p.Steps[dirCheck].Op, p.Ops[dirCheck].Else, p.Steps[p.Ops[dirCheck].Jump].Op)
	}
	if i := find(open, "fsconfig", `FSCONFIG_SET_FLAG, "ro"`); i > int(p.Ops[dirCheck].Jump) {
		t.Errorf("the read-only tmpfs is not on the directory branch")
	}
	if i := find(open, "fsmount", ""); !strings.HasSuffix(p.Steps[i].Args, ">, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY") {
		t.Errorf("mask tmpfs: %s", p.Steps[i].Args)
	}
	// The readonly path: missing skips it, else a recursive clone made
	// read-only.
	ro := find(0, "openat2", "/proc/sys")
	if p.Ops[ro].Else[0] != unix.ENOENT || p.Steps[p.Ops[ro].Jump].Op != "open" {
		t.Errorf("readonly path: else %v -> %s, want ENOENT -> the pivot", p.Ops[ro].Else, p.Steps[p.Ops[ro].Jump].Op)
	}
	if tr := p.Ops[ro+1]; tr.Trap != unix.SYS_OPEN_TREE || tr.Args[2] != unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_EMPTY_PATH|unix.AT_RECURSIVE {
		t.Errorf("readonly path clone: %s %#x", p.Steps[ro+1].Op, tr.Args[2])
	}
}

func TestRawStepsNeedsGo(t *testing.T) {
	dir := t.TempDir()
	pipe := os.FileMode(0o666)
	many := []specs.Mount{}
	for i := 0; i <= maxLate; i++ {
		many = append(many, specs.Mount{Destination: "/m" + string(rune('a'+i)), Type: "tmpfs", Options: []string{"ro"}})
	}
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		c    Config
		why  string
	}{
		{"tmpcopyup", Config{Mounts: []specs.Mount{{Destination: "/tmp", Type: "tmpfs", Options: []string{"tmpcopyup"}}}}, "tmpcopyup"},
		{"mount fds", Config{Mounts: []specs.Mount{{Destination: "/x", Type: "bind", Source: dir, Options: []string{"bind"}}}, MountSources: map[int]*os.File{0: f}}, "mount fds"},
		{"console", Config{BeforeFinal: []step.Step{{Op: "x"}}}, "/dev/console"},
		{"other filesystem", Config{Mounts: []specs.Mount{{Destination: "/x", Type: "overlay", Source: "overlay"}}}, `filesystem type overlay`},
		{"mand", Config{Mounts: []specs.Mount{{Destination: "/x", Type: "tmpfs", Options: []string{"mand"}}}}, "MS_MANDLOCK"},
		{"atime cleared on a bind", Config{Mounts: []specs.Mount{{Destination: "/x", Type: "bind", Source: dir, Options: []string{"bind", "norelatime"}}}}, "remount computed"},
		{"fifo device", Config{SetupDev: true, Devices: []specs.LinuxDevice{{Path: "/dev/p", Type: "p", FileMode: &pipe}}}, "FIFO"},
		{"cwd with dotdot", Config{Cwd: "/a/../b"}, `has ".."`},
		{"many late mounts", Config{Mounts: many}, "read-only mounts with mounts below them"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.c.Rootfs = dir
			p := &raw.Prog{}
			err := RawSteps(tc.c, p)
			var ng *raw.NeedsGo
			if !errors.As(err, &ng) || !strings.Contains(ng.Why, tc.why) {
				t.Fatalf("RawSteps: %v, want NeedsGo %q", err, tc.why)
			}
			if len(p.Ops) != 0 {
				t.Errorf("%d ops appended before NeedsGo", len(p.Ops))
			}
		})
	}
	// Many late mounts below the limit are fine; "ro" tmpfs are late.
	c := Config{Rootfs: dir, Mounts: many[:maxLate]}
	checkProg(t, rawProg(t, c))
}

// A cgroup mount on a cgroup v1 or hybrid host needs the container's
// view; on a pure cgroup v2 host it is a new cgroup2 mount, with the
// bind of the host's cgroup2 when the kernel refuses it.
func TestRawStepsCgroupMount(t *testing.T) {
	dir := t.TempDir()
	c := Config{Rootfs: dir, Mounts: []specs.Mount{{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"ro", "nosuid"}}}}
	if !hostUnified() {
		var ng *raw.NeedsGo
		if err := RawSteps(c, &raw.Prog{}); !errors.As(err, &ng) || !strings.Contains(ng.Why, "cgroup view") {
			t.Errorf("cgroup v1 without a view: %v, want NeedsGo", err)
		}
		cv, err := ReadCgroupView()
		if err != nil {
			t.Fatal(err)
		}
		c.CgroupView = cv
		p := rawProg(t, c)
		checkProg(t, p)
		binds := calls(p, "move_mount")
		if len(binds) != 1+len(cv.mounts) {
			t.Errorf("%d move_mounts for %d hierarchies: %q", len(binds), len(cv.mounts), binds)
		}
		if n := len(calls(p, "fsopen")); n != 1 {
			t.Errorf("%d new filesystems, want only the tmpfs", n)
		}
		return
	}
	p := rawProg(t, c)
	checkProg(t, p)
	for i, o := range p.Ops {
		if o.Trap == unix.SYS_FSOPEN {
			if p.Steps[i].Args != `"cgroup2", FSOPEN_CLOEXEC` || o.Else != [2]syscall.Errno{unix.EPERM, unix.EBUSY} {
				t.Errorf("cgroup2: %s %s else %v", p.Steps[i].Op, p.Steps[i].Args, o.Else)
			}
			if p.Steps[o.Jump].Op != "open_tree" {
				t.Errorf("cgroup2 refused: continues with %s, want open_tree of the host's", p.Steps[o.Jump].Op)
			}
		}
	}
}

// --explain: every op that is a system call says what it does and why.
func TestRawStepsExplain(t *testing.T) {
	p := &raw.Prog{Explain: true, Prefix: "init"}
	if err := RawSteps(Config{Rootfs: t.TempDir(), MaskedPaths: []string{"/x"}}, p); err != nil {
		t.Fatal(err)
	}
	for i, o := range p.Ops {
		if o.Trap == raw.Goto {
			continue
		}
		quiet := o.Trap == unix.SYS_CLOSE || i > 0 && o.Trap == raw.Eq && p.Ops[i-1].Trap == raw.Eq
		if (o.SayLen == 0) != quiet {
			t.Errorf("op %d (%s): explain line %d bytes", i, p.Steps[i].Op, o.SayLen)
		}
		if st := p.Steps[i]; st.Op != "close" && st.Why == "" {
			t.Errorf("op %d (%s %s) says no why", i, st.Op, st.Args)
		}
	}
}
