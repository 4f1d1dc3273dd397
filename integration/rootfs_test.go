package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mountLine is one line of /proc/PID/mountinfo (proc(5)).
type mountLine struct {
	root, point, opts, fstype string
}

func parseMountinfo(t *testing.T, text string) map[string]mountLine {
	t.Helper()
	m := map[string]mountLine{}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 6 || len(g) < 1 {
			t.Fatalf("not a mountinfo line: %q", line)
		}
		m[f[4]] = mountLine{root: f[3], point: f[4], opts: f[5], fstype: g[0]}
	}
	return m
}

// after returns the text after the first line that is marker.
func after(t *testing.T, text, marker string) string {
	t.Helper()
	_, rest, ok := strings.Cut(text, marker+"\n")
	if !ok {
		t.Fatalf("no %q line in:\n%s", marker, text)
	}
	return rest
}

func hasOpts(opts string, want ...string) bool {
	have := strings.Split(opts, ",")
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

// inRootfs runs `ctr-lite rootfs ARGS... ROOTFS -- CMD...` and checks
// that it left nothing mounted under the rootfs on the host.
func inRootfs(t *testing.T, rootfs string, args []string, cmd ...string) result {
	t.Helper()
	all := append(append(append([]string{"rootfs"}, args...), rootfs, "--"), cmd...)
	r := ctrLite(t, all...)
	if left := mountsUnder(t, rootfs); len(left) > 0 {
		t.Errorf("left mounted on the host: %v", left)
	}
	return r
}

func mustInRootfs(t *testing.T, rootfs string, args []string, cmd ...string) result {
	t.Helper()
	r := inRootfs(t, rootfs, args, cmd...)
	if r.code != 0 {
		t.Fatalf("ctr-lite rootfs %v %v: %s", args, cmd, r)
	}
	return r
}

// checkRootIs asserts that "/" in the mountinfo is the rootfs directory
// (its root field ends with the rootfs's last path components).
func checkRootIs(t *testing.T, mounts map[string]mountLine, rootfs string) {
	t.Helper()
	rel := filepath.Join(filepath.Base(filepath.Dir(rootfs)), filepath.Base(rootfs))
	if root, ok := mounts["/"]; !ok || !strings.HasSuffix(root.root, "/"+rel) {
		t.Errorf("/ is %+v, want the rootfs (root field ending in %s)", root, rel)
	}
}

func TestUserPivotsIntoRootfs(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	r := mustInRootfs(t, rootfs, []string{"--proc", "--dev", "--tmpfs", "/tmp"}, "cat", "/proc/self/mountinfo")
	mounts := parseMountinfo(t, r.stdout)
	checkRootIs(t, mounts, rootfs)
	want := map[string]struct {
		fstype string
		opts   []string
	}{
		"/":           {"", nil},
		"/proc":       {"proc", []string{"rw", "nosuid", "nodev", "noexec"}},
		"/dev":        {"tmpfs", []string{"rw", "nosuid"}},
		"/dev/pts":    {"devpts", []string{"nosuid", "noexec"}},
		"/dev/shm":    {"tmpfs", []string{"nosuid", "nodev", "noexec"}},
		"/dev/mqueue": {"mqueue", []string{"nosuid", "nodev", "noexec"}},
		"/tmp":        {"tmpfs", []string{"nosuid", "nodev"}},
	}
	// Exactly these: the host's mounts went with the old root.
	for p, m := range mounts {
		w, ok := want[p]
		if !ok {
			t.Errorf("host mount visible inside: %+v", m)
			continue
		}
		if w.fstype != "" && (m.fstype != w.fstype || !hasOpts(m.opts, w.opts...)) {
			t.Errorf("%s is %s %s, want %s with %v", p, m.fstype, m.opts, w.fstype, w.opts)
		}
	}
	for p := range want {
		if _, ok := mounts[p]; !ok {
			t.Errorf("%s not mounted inside:\n%s", p, r.stdout)
		}
	}
	// --dev is the /dev of `runc spec`: devpts owned by gid 5 (tty),
	// mode 620.
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, " /dev/pts ") && (!strings.Contains(line, "gid=5") || !strings.Contains(line, "mode=620")) {
			t.Errorf("devpts is not runc spec's (gid=5,mode=620): %s", line)
		}
	}
}

func TestUserChrootsIntoRootfs(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	r := mustInRootfs(t, rootfs, []string{"--explain", "--chroot", "--proc"}, "cat", "/proc/self/mountinfo")
	mounts := parseMountinfo(t, r.stdout)
	checkRootIs(t, mounts, rootfs)
	if len(mounts) != 2 || mounts["/proc"].fstype != "proc" {
		t.Errorf("want / and /proc only:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, `explain[rootfs]: chroot(".")`) || strings.Contains(r.stderr, "explain[rootfs]: pivot_root") {
		t.Errorf("--chroot did not chroot instead of pivot_root:\n%s", r.stderr)
	}
}

func TestUserExitsWithCommandStatus(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	if r := inRootfs(t, rootfs, nil, "sh", "-c", "exit 7"); r.code != 7 {
		t.Errorf("exit status %d, want 7: %s", r.code, r)
	}
}

func TestUserMakesRootReadonly(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	r := inRootfs(t, rootfs, []string{"--readonly", "--proc", "--tmpfs", "/tmp"}, "sh", "-c",
		"touch /probe; echo touch=$?; touch /tmp/ok && echo tmp=ok; echo MOUNTINFO; cat /proc/self/mountinfo")
	if r.code != 0 || !strings.Contains(r.stderr, "Read-only file system") || !strings.Contains(r.stdout, "touch=1") {
		t.Errorf("touch / did not fail with EROFS: %s", r)
	}
	if !strings.Contains(r.stdout, "tmp=ok") {
		t.Errorf("a tmpfs on a read-only root is not writable: %s", r)
	}
	if m := parseMountinfo(t, after(t, r.stdout, "MOUNTINFO"))["/"]; !hasOpts(m.opts, "ro") {
		t.Errorf("/ is %+v, want ro", m)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "probe")); err == nil {
		t.Error("the file was created in the rootfs")
	}
}

func TestUserBindMountsReadOnly(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "hello"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := inRootfs(t, rootfs, []string{"--proc", "--mount", "bind:" + data + ":/data:ro,nosuid,nodev"}, "sh", "-c",
		"cat /data/hello; touch /data/new; echo touch=$?; echo MOUNTINFO; cat /proc/self/mountinfo")
	if r.code != 0 || !strings.Contains(r.stdout, "from the host") {
		t.Fatalf("bind mount not readable: %s", r)
	}
	if !strings.Contains(r.stdout, "touch=1") || !strings.Contains(r.stderr, "Read-only file system") {
		t.Errorf("write to a ro bind mount did not fail with EROFS: %s", r)
	}
	if m := parseMountinfo(t, after(t, r.stdout, "MOUNTINFO"))["/data"]; !hasOpts(m.opts, "ro", "nosuid", "nodev") {
		t.Errorf("/data is %+v, want ro,nosuid,nodev", m)
	}
	if _, err := os.Stat(filepath.Join(data, "new")); err == nil {
		t.Error("the write reached the host directory")
	}
}

func TestUserMasksPaths(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	if err := os.WriteFile(filepath.Join(rootfs, "etc/secret"), []byte("s3cret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(rootfs, "etc/secrets.d"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc/secrets.d/key"), []byte("k3y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// /proc files of the default list that this kernel has.
	var procFiles []string
	for _, p := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats"} {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			procFiles = append(procFiles, p)
		}
	}
	if len(procFiles) == 0 {
		t.Fatal("no masked /proc file of the default list exists on this kernel")
	}
	script := "echo secret=$(cat /etc/secret); echo dir=$(ls -A /etc/secrets.d | wc -l); touch /etc/secrets.d/x; echo touch=$?"
	for _, p := range procFiles {
		script += "; echo " + p + "=$(wc -c < " + p + ")"
	}
	r := inRootfs(t, rootfs, []string{"--proc", "--default-paths", "--mask", "/etc/secret", "--mask", "/etc/secrets.d", "--mask", "/no/such/path"},
		"sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("%s", r)
	}
	for _, want := range []string{"secret=\n", "dir=0\n", "touch=1\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("masked paths: want %q in:\n%s", want, r)
		}
	}
	for _, p := range procFiles {
		if !strings.Contains(r.stdout, p+"=0\n") {
			t.Errorf("%s is not masked (want 0 bytes): %s", p, r.stdout)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rootfs, "etc/secret")); err != nil || string(b) != "s3cret\n" {
		t.Errorf("the masked file changed on disk: %q %v", b, err)
	}
}

func TestUserMakesPathsReadonly(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	r := inRootfs(t, rootfs, []string{"--proc", "--default-paths", "--readonly-path", "/var"}, "sh", "-c",
		"touch /var/x; echo var=$?; touch /etc/ok && echo etc=ok; echo MOUNTINFO; cat /proc/self/mountinfo")
	if r.code != 0 || !strings.Contains(r.stdout, "var=1") || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("write under a readonly path did not fail with EROFS: %s", r)
	}
	if !strings.Contains(r.stdout, "etc=ok") {
		t.Errorf("the rest of the rootfs is not writable: %s", r)
	}
	mounts := parseMountinfo(t, after(t, r.stdout, "MOUNTINFO"))
	for _, p := range []string{"/var", "/proc/sys", "/proc/fs"} {
		if m, ok := mounts[p]; !ok || !hasOpts(m.opts, "ro") {
			t.Errorf("%s not a ro mount: %+v", p, m)
		}
	}
	// The readonly /proc/sys keeps the nosuid,nodev,noexec of /proc.
	if m := mounts["/proc/sys"]; !hasOpts(m.opts, "ro", "nosuid", "nodev", "noexec") {
		t.Errorf("/proc/sys lost its flags: %+v", m)
	}
	os.Remove(filepath.Join(rootfs, "etc/ok"))
}

func TestUserGetsMinimalDev(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	r := mustInRootfs(t, rootfs, []string{"--proc", "--dev"}, "sh", "-c",
		`stat -c '%n %F %t:%T' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty;
		for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done;
		echo zero=$(head -c 5 /dev/zero | wc -c); echo x > /dev/null && echo null=ok`)
	for _, want := range []string{
		"/dev/null character special file 1:3",
		"/dev/zero character special file 1:5",
		"/dev/full character special file 1:7",
		"/dev/random character special file 1:8",
		"/dev/urandom character special file 1:9",
		"/dev/tty character special file 5:0",
		"fd -> /proc/self/fd\n", "stdin -> /proc/self/fd/0\n", "stdout -> /proc/self/fd/1\n",
		"stderr -> /proc/self/fd/2\n", "ptmx -> pts/ptmx\n", "zero=5\n", "null=ok\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("/dev: want %q in:\n%s", want, r.stdout)
		}
	}
	// The nodes went into the tmpfs, not into the rootfs on disk.
	if ents, err := os.ReadDir(filepath.Join(rootfs, "dev")); err != nil || len(ents) != 0 {
		t.Errorf("rootfs/dev on disk has %v (%v), want empty", ents, err)
	}
}

// TestUserCannotMountOutThroughSymlink: a symlink in the rootfs that points
// at the host's /etc is resolved inside the rootfs, so the tmpfs lands on
// ROOTFS/etc and the host's /etc is never touched (runc CVE-2021-30465).
func TestUserCannotMountOutThroughSymlink(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	if err := os.Symlink("/etc", filepath.Join(rootfs, "mnt/evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../etc/hostname", filepath.Join(rootfs, "mnt/evilfile")); err != nil {
		t.Fatal(err)
	}
	probe := "ctr-lite-rootfs-probe"
	hostBefore := mountsUnder(t, "/etc")
	r := mustInRootfs(t, rootfs,
		[]string{"--proc", "--mount", "tmpfs:tmpfs:/mnt/evil", "--mask", "/mnt/evilfile"},
		"sh", "-c", "touch /mnt/evil/"+probe+"; ls -A /etc; echo hostname=$(cat /etc/hostname); echo MOUNTINFO; cat /proc/self/mountinfo")
	mounts := parseMountinfo(t, after(t, r.stdout, "MOUNTINFO"))
	if m, ok := mounts["/etc"]; !ok || m.fstype != "tmpfs" {
		t.Errorf("the tmpfs did not land on the rootfs's /etc: %s", r.stdout)
	}
	if !strings.HasPrefix(r.stdout, probe+"\n") || !strings.Contains(r.stdout, "hostname=\n") {
		t.Errorf("/etc inside is not the fresh tmpfs: %s", r.stdout)
	}
	if _, err := os.Lstat(filepath.Join("/etc", probe)); err == nil {
		os.Remove(filepath.Join("/etc", probe))
		t.Fatal("the write reached the host's /etc")
	}
	if after := mountsUnder(t, "/etc"); strings.Join(after, " ") != strings.Join(hostBefore, " ") {
		t.Errorf("host mounts under /etc changed: %v -> %v", hostBefore, after)
	}
	if _, err := os.Stat(filepath.Join(rootfs, "etc/passwd")); err != nil {
		t.Errorf("rootfs/etc/passwd: %v", err)
	}
}

func TestUserGivesBadRootfsInput(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"missing rootfs", []string{"rootfs", "/nonexistent/rootfs", "--", "true"}, []string{"/nonexistent/rootfs", "no such file or directory"}},
		{"rootfs is a file", []string{"rootfs", file, "--", "true"}, []string{file, "not a directory"}},
		{"unknown mount option", []string{"rootfs", "--mount", "tmpfs:tmpfs:/tmp:frobnicate", rootfs, "--", "true"}, []string{`unknown mount option "frobnicate"`, "/tmp"}},
		{"relative destination", []string{"rootfs", "--mount", "tmpfs:tmpfs:tmp", rootfs, "--", "true"}, []string{`destination "tmp" is not absolute`}},
		{"unknown type", []string{"rootfs", "--mount", "frobfs:x:/x", rootfs, "--", "true"}, []string{`unknown filesystem type "frobfs"`}},
		{"unknown propagation", []string{"rootfs", "--propagation", "sideways", rootfs, "--", "true"}, []string{`unknown propagation "sideways"`}},
		{"missing bind source", []string{"rootfs", "--mount", "bind:/nonexistent/src:/x", rootfs, "--", "true"}, []string{"/nonexistent/src"}},
		{"missing command", []string{"rootfs", "--proc", "--dev", rootfs, "--", "no-such-command"}, []string{`"no-such-command" not found`}},
		{"kernel refuses", []string{"rootfs", "--proc", "--mount", "tmpfs:tmpfs:/x:size=bogus", rootfs, "--", "true"}, []string{"mount", "/x", "invalid argument"}},
		{"no command", []string{"rootfs", rootfs}, []string{"no command"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantFail(t, tc.args, tc.want...)
			if left := mountsUnder(t, rootfs); len(left) > 0 {
				t.Errorf("left mounted: %v", left)
			}
		})
	}
}

// TestUserSetsRootfsPropagation: rootfsPropagation is set on the new "/"
// after the pivot, and a mount's own propagation option on that mount;
// mountinfo shows them in its optional fields (proc(5)).
func TestUserSetsRootfsPropagation(t *testing.T) {
	requireRoot(t)
	rootfs := newRootfs(t)
	for _, tc := range []struct{ prop, want string }{{"rshared", " shared:"}, {"unbindable", " unbindable "}} {
		r := mustInRootfs(t, rootfs, []string{"--propagation", tc.prop, "--proc", "--mount", "tmpfs:tmpfs:/tmp:nosuid,shared"},
			"cat", "/proc/self/mountinfo")
		var root, tmp string
		for _, line := range strings.Split(r.stdout, "\n") {
			if f := strings.Fields(line); len(f) > 4 && f[4] == "/" {
				root = line
			} else if len(f) > 4 && f[4] == "/tmp" {
				tmp = line
			}
		}
		if !strings.Contains(root, tc.want) {
			t.Errorf("--propagation %s: / is %q, want %q", tc.prop, root, tc.want)
		}
		if !strings.Contains(tmp, " shared:") {
			t.Errorf("tmpfs with option shared: /tmp is %q", tmp)
		}
	}
}

// A root.path that is a symlink, or under one, is refused as runc 1.1
// refuses it (libcontainer/configs/validate: "invalid rootfs: not an
// absolute path, or a symlink"), exit 1, nothing made. A bundle named
// through a symlink is fine: as runc (chdir, getcwd) the state's bundle
// and rootfs are the resolved paths.
func TestUserCreatesContainerOnSymlinkedRootfs(t *testing.T) {
	t.Run("root.path-is-a-symlink", func(t *testing.T) {
		b := newBundle(t, "rootfs-link", "true")
		real := filepath.Join(b.dir, "realroot")
		if err := os.Rename(filepath.Join(b.dir, "rootfs"), real); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("realroot", filepath.Join(b.dir, "rootfs")); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"create", "run"} {
			r := b.detached(nil, cmd, "-b", b.dir, b.id)
			checkOneLineError(t, r, []string{cmd + ` "` + b.id + `": `, "root.path " + filepath.Join(b.dir, "rootfs"),
				"invalid rootfs: not an absolute path, or a symlink", real})
			if r.code != 1 {
				t.Errorf("%s exit %d, runc's is 1", cmd, r.code)
			}
		}
		b.wantNothingLeft()
	})
	t.Run("root.path-under-a-symlink", func(t *testing.T) {
		b := newBundle(t, "rootfs-under-link", "true")
		link := filepath.Join(t.TempDir(), "bundle-link")
		if err := os.Symlink(b.dir, link); err != nil {
			t.Fatal(err)
		}
		b.spec.Root.Path = filepath.Join(link, "rootfs")
		b.write()
		r := b.detached(nil, "create", "-b", b.dir, b.id)
		checkOneLineError(t, r, []string{"root.path " + b.spec.Root.Path, "not an absolute path, or a symlink"})
		b.wantNothingLeft()
	})
	t.Run("bundle-named-through-a-symlink", func(t *testing.T) {
		b := newBundle(t, "bundle-link", "sleep", "1000")
		link := filepath.Join(t.TempDir(), "bundle-link")
		if err := os.Symlink(b.dir, link); err != nil {
			t.Fatal(err)
		}
		b.mustDetached("create", "-b", link, b.id)
		s := b.state(b.id)
		if s.Bundle != b.dir || s.Rootfs != filepath.Join(b.dir, "rootfs") {
			t.Errorf("state bundle %q rootfs %q, want the resolved %q (as runc)", s.Bundle, s.Rootfs, b.dir)
		}
		b.must("delete", "-f", b.id)
		b.wantNothingLeft()
	})
}
