package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// setup is the state the steps share while they run: handles opened by
// one step and used by the next. It lives only as long as the steps.
type setup struct {
	cfg      Config
	rootReal string   // the rootfs with host symlinks resolved, for checks
	root     *os.File // the rootfs bind mount, opened after the bind
	devNull  *os.File // the host's /dev/null, checked to be char 1:3
	// late are the mounts made read-only (or given their recursive
	// attributes) only at the end, after what goes below them.
	late []*lateMount
	// keepRoot: root is still used after the pivot (by the final steps).
	keepRoot bool
	// tops are handles on the mounts made at each destination, pinned
	// when made, for the steps that change those mounts later (mountAt).
	tops map[string]*os.File
}

// UnshareStep gives this thread its own copy of the mount table
// (unshare(2) CLONE_NEWNS, which implies CLONE_FS: its own root and cwd),
// so the steps of Steps change nothing the host sees. The calling
// goroutine must be locked to its OS thread (runtime.LockOSThread).
func UnshareStep() step.Step {
	return step.Step{
		Op:   "unshare",
		Args: "CLONE_NEWNS",
		Why:  "a private copy of the mount table for this thread; the host's stays as it is",
		Do:   func() error { return unix.Unshare(unix.CLONE_NEWNS) },
	}
}

// Steps validates c and returns the ordered steps that make c.Rootfs the
// root of the calling thread. See the package doc for the preconditions.
func Steps(c Config) ([]step.Step, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return ValidatedSteps(c)
}

// ValidatedSteps is Steps for a config Validate accepted already: a
// runtime validates at create, and its init only builds the steps.
func ValidatedSteps(c Config) ([]step.Step, error) {
	real, err := filepath.EvalSymlinks(c.Rootfs)
	if err != nil {
		return nil, errorf("rootfs: %w", err)
	}
	s := &setup{cfg: c, rootReal: real}
	var steps []step.Step
	steps = append(steps, s.checkProcStep())
	if len(c.MaskedPaths) > 0 {
		steps = append(steps, s.openDevNullStep())
	}
	steps = append(steps, s.prepareSteps()...)
	for i, m := range c.Mounts {
		steps = append(steps, s.mountSteps(m, c.MountSources[i], c.lateAttrs(i))...)
	}
	if c.SetupDev {
		steps = append(steps, s.devSteps()...)
	}
	if c.Cwd != "" {
		steps = append(steps, s.cwdStep(c.Cwd))
	}
	for _, w := range c.ProcWrites {
		steps = append(steps, s.procWriteStep(w))
	}
	for _, p := range c.MaskedPaths {
		steps = append(steps, s.maskStep(p))
	}
	for _, p := range c.ReadonlyPaths {
		steps = append(steps, s.readonlySteps(p)...)
	}
	final := s.finalSteps()
	s.keepRoot = len(final) > 0
	if c.NoPivot {
		steps = append(steps, s.chrootSteps()...)
	} else {
		steps = append(steps, s.pivotSteps()...)
	}
	if c.Propagation != "" {
		steps = append(steps, s.propagationStep())
	}
	steps = append(steps, c.BeforeFinal...)
	return append(steps, final...), nil
}

// cwdStep creates the process's working directory if it is missing
// (runc does mkdir -p of process.cwd in the new root), in-root like a
// mount target, so a symlink in the rootfs cannot make us create a
// directory on the host.
func (s *setup) cwdStep(p string) step.Step {
	return step.Step{
		Op:   "mkdirat",
		Args: s.host(p) + ", 0755 (and missing parents)",
		Why:  whyCwd,
		Do: func() error {
			f, err := s.mkdirAll(p)
			if err != nil {
				return err
			}
			return f.Close()
		},
	}
}

// host is the host path of p inside the rootfs, for --explain only: the
// steps themselves resolve p in-root, by fd.
func (s *setup) host(p string) string {
	return filepath.Join(s.rootReal, path.Clean("/"+p))
}

func (s *setup) checkProcStep() step.Step {
	return step.Step{
		Op:   "statfs",
		Args: "/proc/thread-self/fd",
		Why:  "mount targets are passed as /proc/thread-self/fd/N: /proc must be a real procfs",
		Do: func() error {
			f, err := os.OpenFile("/proc/thread-self/fd", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			return procfs.Check(f)
		},
	}
}

func (s *setup) openDevNullStep() step.Step {
	return step.Step{
		Op:   "open",
		Args: `"/dev/null", O_PATH`,
		Why:  whyDevNull,
		Do: func() error {
			f, err := os.OpenFile("/dev/null", unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			var st unix.Stat_t
			if err := unix.Fstat(int(f.Fd()), &st); err != nil {
				f.Close()
				return errorf("fstat: %w", err)
			}
			if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
				f.Close()
				return errors.New("not the null device (char 1:3)")
			}
			s.devNull = f
			return nil
		},
	}
}

// prepareSteps: propagation of "/", the rootfs bound on itself, and the
// handle every later step resolves paths in (runc's prepareRoot).
//
// "/" gets rootfsPropagation, or MS_SLAVE|MS_REC when it is unset (runc's
// default): the host's later mounts under a shared directory still reach
// a bind of it (CRI HostToContainer), ours never reach the host, except
// under a bind the config makes shared again (rshared, Bidirectional).
// The mount holding the rootfs is then made private, so the bind of the
// rootfs onto itself propagates nowhere even when "/" is shared, and
// pivot_root(2) accepts it (it refuses a new root whose parent is shared).
func (s *setup) prepareSteps() []step.Step {
	prop, why := rootPropagation(s.cfg.Propagation)
	return []step.Step{
		{
			Op:   "mount",
			Args: fmt.Sprintf(`"", "/", "", %s`, FormatFlags(prop)),
			Why:  why,
			Do:   func() error { return unix.Mount("", "/", "", prop, "") },
		},
		{
			Op:   "mount",
			Args: fmt.Sprintf(`"", <mount holding %q>, "", MS_PRIVATE`, s.rootReal),
			Why:  whyRootPrivate,
			Do:   func() error { return parentPrivate(s.rootReal) },
		},
		{
			Op:   "mount",
			Args: fmt.Sprintf("%q, %q, \"\", MS_BIND|MS_REC", s.rootReal, s.rootReal),
			Why:  whyRootBind,
			Do: func() error {
				return unix.Mount(s.rootReal, s.rootReal, "", unix.MS_BIND|unix.MS_REC, "")
			},
		},
		{
			Op:   "open",
			Args: fmt.Sprintf("%q, O_PATH|O_DIRECTORY", s.rootReal),
			Why:  whyRootOpen,
			Do: func() error {
				f, err := os.OpenFile(s.rootReal, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				s.root = f
				return nil
			},
		},
	}
}

// mountSteps mounts one config mount: the mount itself onto a pinned
// target, then (for a bind) the remount that applies ro/nosuid/..., then
// each propagation change, which mount(2) only takes alone, then the
// recursive attributes (rro, rnosuid, ...) with mount_setattr(2). With
// late set, read-only and the recursive attributes wait for finalSteps.
// src, if not nil, is the bind source, opened by the caller.
func (s *setup) mountSteps(m specs.Mount, src *os.File, late bool) []step.Step {
	opts, _ := parseOptions(m) // validated
	dest := path.Clean(m.Destination)
	var lm *lateMount
	if late {
		lm = &lateMount{dest: dest, ro: opts.flags&unix.MS_RDONLY != 0, rec: opts.rec}
		s.late = append(s.late, lm)
		opts.flags &^= unix.MS_RDONLY
		opts.rec = unix.MountAttr{}
	}
	var steps []step.Step
	if opts.bind() {
		flags := opts.flags & (unix.MS_BIND | unix.MS_REC)
		why := whyBind
		if src != nil {
			why = "bind mount from the source the runtime opened outside the user namespace; the target is opened in-root"
		}
		steps = append(steps, step.Step{
			Op:   "mount",
			Args: fmt.Sprintf("%q, %q, \"\", %s", m.Source, s.host(dest), FormatFlags(flags)),
			Why:  why,
			Do: func() error {
				if src != nil {
					return s.bindFrom(src, dest, flags)
				}
				return s.bind(m.Source, dest, flags)
			},
		})
		if rest := opts.flags &^ (unix.MS_BIND | unix.MS_REC); rest != 0 || opts.clear != 0 {
			steps = append(steps, s.remountStep(dest, rest, opts.clear, whyBindFlags))
		}
	} else if m.Type == "cgroup" && !hostUnified() {
		steps = append(steps, s.cgroupV1Steps(m, dest, opts, lm != nil && lm.ro)...)
	} else {
		steps = append(steps, s.fsMountStep(m, dest, opts))
	}
	for _, p := range opts.propagation {
		p := p
		steps = append(steps, step.Step{
			Op:   "mount",
			Args: fmt.Sprintf(`"", %q, "", %s`, s.host(dest), FormatFlags(p)),
			Why:  whyPropagation,
			Do: func() error {
				t, err := s.mountAt(dest)
				if err != nil {
					return err
				}
				defer t.Close()
				return unix.Mount("", fdPath(t), "", p, "")
			},
		})
	}
	if opts.hasRec() {
		steps = append(steps, s.recAttrStep(dest, opts.rec))
	}
	if lm != nil {
		steps = append(steps, s.pinStep(lm))
	}
	// The handles on this mount are no longer needed once its own steps
	// ran (a late mount holds its own pin): keeping one per mount would
	// run a config with thousands of mounts out of RLIMIT_NOFILE.
	last := &steps[len(steps)-1]
	do := last.Do
	last.Do = func() error {
		err := do()
		s.unpin(dest)
		return err
	}
	return steps
}

// fsMountStep mounts a filesystem (proc, tmpfs, ...) on a directory it
// creates in-root.
func (s *setup) fsMountStep(m specs.Mount, dest string, opts mountOptions) step.Step {
	fstype, source := m.Type, m.Source
	if fstype == "cgroup" {
		// On a pure cgroup v2 host "cgroup" means the unified
		// hierarchy (cgroupV1Steps does v1 and hybrid hosts).
		fstype = "cgroup2"
	}
	if source == "" {
		source = fstype
	}
	data := strings.Join(opts.data, ",")
	why := whyFs(fstype)
	if opts.copyUp {
		why += "; tmpcopyup: then what the rootfs had there is copied in, read through a handle opened before the mount"
	}
	return step.Step{
		Op:   "mount",
		Args: fmt.Sprintf("%q, %q, %q, %s, %q", source, s.host(dest), fstype, FormatFlags(opts.flags), data),
		Why:  why,
		Do: func() error {
			s.pin(dest, nil) // a mount over an earlier one at dest
			t, err := s.mkdirAll(dest)
			if err != nil {
				return err
			}
			defer t.Close()
			if attrs, ok := mountAttrs(opts.flags); ok && fstype == "tmpfs" && !opts.copyUp {
				// Made detached and attached by fd, and pinned: a /dev
				// made read-only at the end is this very mount.
				top, err := newFs(fstype, source, opts.data, attrs)
				if err == nil {
					return s.attach(top, t, dest)
				}
				if !errors.Is(err, unix.ENOSYS) {
					return err
				}
			}
			if !opts.copyUp {
				err := unix.Mount(source, fdPath(t), fstype, opts.flags, data)
				if fstype == "cgroup2" && (errors.Is(err, unix.EPERM) || errors.Is(err, unix.EBUSY)) {
					return s.cgroup2Fallback(dest, opts.flags, err)
				}
				return err
			}
			return s.mountCopyUp(t, dest, source, fstype, opts.flags, data)
		},
	}
}

// mountCopyUp mounts a tmpfs on t and copies into it the directory it
// covers, mode included (runc's tmpcopyup). A handle opened before the
// mount still reads the covered directory. A read-only tmpfs is filled
// first and made read-only after.
func (s *setup) mountCopyUp(t *os.File, dest, source, fstype string, flags uintptr, data string) error {
	below, err := os.OpenFile(fdPath(t), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return errorf("open %s for tmpcopyup: %w", dest, err)
	}
	defer below.Close()
	if attrs, ok := mountAttrs(flags); ok {
		var opts []string
		if data != "" {
			opts = strings.Split(data, ",")
		}
		top, err := newTmpfs(source, opts, attrs&^unix.MOUNT_ATTR_RDONLY)
		if err == nil {
			return s.fillAndAttach(top, below, t, dest, attrs&unix.MOUNT_ATTR_RDONLY != 0)
		}
		if !errors.Is(err, unix.ENOSYS) {
			return err
		}
	}
	// Linux < 5.2: mount, then find the new tmpfs by path again.
	if err := unix.Mount(source, fdPath(t), fstype, flags&^unix.MS_RDONLY, data); err != nil {
		return err
	}
	top, err := s.open(dest)
	if err != nil {
		return err
	}
	defer top.Close()
	dir, err := os.OpenFile(fdPath(top), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := copyTree(below, dir); err != nil {
		return errorf("tmpcopyup %s: %w", dest, err)
	}
	// The tmpfs root takes the covered directory's mode, as in runc.
	var st unix.Stat_t
	if err := unix.Fstat(int(below.Fd()), &st); err != nil {
		return errorf("tmpcopyup %s: fstat: %w", dest, err)
	}
	if err := unix.Fchmod(int(dir.Fd()), st.Mode&0o7777); err != nil {
		return errorf("tmpcopyup %s: chmod: %w", dest, err)
	}
	if flags&unix.MS_RDONLY != 0 {
		return unix.Mount("", fdPath(top), "", unix.MS_REMOUNT|flags, data)
	}
	return nil
}

// fillAndAttach is tmpcopyup on the mount API: the detached tmpfs top is
// filled with what below holds and given its mode, made read-only if
// asked, and only then attached onto t and pinned. Nothing is looked up
// by path: the host side of a shared directory cannot make us copy into,
// chmod or remount another directory.
func (s *setup) fillAndAttach(top, below, t *os.File, dest string, rdonly bool) error {
	fd, err := unix.Openat(int(top.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		top.Close()
		return errorf("tmpcopyup %s: open the new tmpfs: %w", dest, err)
	}
	dir := os.NewFile(uintptr(fd), dest)
	defer dir.Close()
	err = copyTree(below, dir)
	var st unix.Stat_t
	if err == nil {
		err = unix.Fstat(int(below.Fd()), &st)
	}
	if err == nil {
		// The tmpfs root takes the covered directory's mode, as in runc.
		err = unix.Fchmod(int(dir.Fd()), st.Mode&0o7777)
	}
	if err == nil && rdonly {
		err = unix.MountSetattr(int(top.Fd()), "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY})
	}
	if err == nil {
		err = unix.MoveMount(int(top.Fd()), "", int(t.Fd()), "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH)
	}
	if err != nil {
		top.Close()
		return errorf("tmpcopyup %s: %w", dest, err)
	}
	s.pin(dest, top)
	return nil
}

// bind binds the host path source onto dest in the rootfs, both pinned by
// fd; dest is created as a directory or a file to match source.
func (s *setup) bind(source, dest string, flags uintptr) error {
	src, err := os.OpenFile(source, unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	return s.bindFrom(src, dest, flags)
}

// bindFrom binds the opened src onto dest in the rootfs (see bind) and
// pins the new mount for the steps that change it later.
func (s *setup) bindFrom(src *os.File, dest string, flags uintptr) error {
	srcDir, err := isDir(src)
	if err != nil {
		return err
	}
	var t *os.File
	if srcDir {
		t, err = s.mkdirAll(dest)
	} else {
		t, err = s.createFile(dest)
	}
	if err != nil {
		return err
	}
	defer t.Close()
	dstDir, err := isDir(t)
	if err != nil {
		return err
	}
	if srcDir != dstDir {
		return errorf("%s in rootfs: source and destination are not both directories", dest)
	}
	top, err := bindTree(src, t, flags&unix.MS_REC != 0)
	if err != nil {
		return err
	}
	s.pin(dest, top)
	return nil
}

// remountStep sets flags on the mount now at dest, and no other: with
// mount_setattr(2) on the mount's own fd where the flags map to mount
// attributes (Linux 5.12), else MS_REMOUNT|MS_BIND, which changes one
// mount's flags without touching the filesystem.
func (s *setup) remountStep(dest string, want, clear uintptr, why string) step.Step {
	op, args := "mount", fmt.Sprintf(`"", %q, "", %s`, s.host(dest), FormatFlags(unix.MS_REMOUNT|unix.MS_BIND|want))
	if attr, ok := setattrFor(want, clear); ok {
		op, args = "mount_setattr", fmt.Sprintf(`%q, "", AT_EMPTY_PATH, %s`, s.host(dest), FormatAttr(attr))
	}
	return step.Step{
		Op:   op,
		Args: args,
		Why:  why,
		Do: func() error {
			t, err := s.mountAt(dest) // the mount a step of ours made there
			if err != nil {
				return err
			}
			defer t.Close()
			return s.remount(t, want, clear)
		},
	}
}

// remount sets want and clears clear on the mount whose root t is,
// keeping its other flags: mount_setattr(2) changes only the attributes
// it is given; a remount must repeat the ones it keeps (keptFlags).
func (s *setup) remount(t *os.File, want, clear uintptr) error {
	if attr, ok := setattrFor(want, clear); ok {
		err := unix.MountSetattr(int(t.Fd()), "", unix.AT_EMPTY_PATH, &attr)
		if !errors.Is(err, unix.ENOSYS) {
			if err != nil {
				return errorf("mount_setattr %s: %w", t.Name(), err)
			}
			return nil
		}
	}
	have, err := keptFlags(t)
	if err != nil {
		return err
	}
	return unix.Mount("", fdPath(t), "", unix.MS_REMOUNT|unix.MS_BIND|remountFlags(want, clear, have), "")
}

// setattrFor is a bind remount's want and clear flags as mount_setattr(2)
// attributes, with the same result: ok is false where they do not map
// (a flag that is not per-mount, more than one atime mode, an atime mode
// to clear). An atime mode replaces the mount's (MOUNT_ATTR__ATIME
// cleared), and read-only is cleared unless wanted, as a remount does
// (runc's too: a bind of a read-only mount with only "nosuid" is
// writable).
func setattrFor(want, clear uintptr) (unix.MountAttr, bool) {
	set, ok1 := mountAttrs(want)
	clr, ok2 := mountAttrs(clear | unix.MS_RDONLY&^want)
	if !ok1 || !ok2 || clear&atimeFlags != 0 {
		return unix.MountAttr{}, false
	}
	switch want & atimeFlags {
	case 0:
	case unix.MS_NOATIME, unix.MS_RELATIME, unix.MS_STRICTATIME:
		clr |= unix.MOUNT_ATTR__ATIME
	default:
		return unix.MountAttr{}, false
	}
	return unix.MountAttr{Attr_set: set, Attr_clr: clr}, true
}

// maskStep hides p (config-linux.md "maskedPaths"). A missing path is
// skipped: there is nothing to hide.
func (s *setup) maskStep(p string) step.Step {
	return step.Step{
		Op:   "mount",
		Args: fmt.Sprintf(`"/dev/null" (file) or "tmpfs" ro (directory), %q`, s.host(p)),
		Why:  whyMask,
		Do: func() error {
			s.pin(path.Clean(p), nil) // masked: later steps see the mask
			t, err := s.open(p)
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			if err != nil {
				return err
			}
			defer t.Close()
			dir, err := isDir(t)
			if err != nil {
				return err
			}
			if dir {
				return unix.Mount("tmpfs", fdPath(t), "tmpfs", unix.MS_RDONLY, "")
			}
			return unix.Mount(fdPath(s.devNull), fdPath(t), "", unix.MS_BIND, "")
		},
	}
}

// readonlySteps binds p onto itself and remounts it read-only
// (config-linux.md "readonlyPaths"); a missing path is skipped.
func (s *setup) readonlySteps(p string) []step.Step {
	bind := step.Step{
		Op:   "mount",
		Args: fmt.Sprintf(`%q, %q, "", MS_BIND|MS_REC`, s.host(p), s.host(p)),
		Why:  whyReadonlyBind,
		Do: func() error {
			t, err := s.open(p)
			if errors.Is(err, unix.ENOENT) {
				return nil
			}
			if err != nil {
				return err
			}
			defer t.Close()
			top, err := bindTree(t, t, true)
			if err != nil {
				return err
			}
			s.pin(path.Clean(p), top)
			return nil
		},
	}
	ro := s.remountStep(path.Clean(p), unix.MS_RDONLY, 0, whyReadonlyRO)
	do := ro.Do
	ro.Do = func() error {
		if err := do(); !errors.Is(err, unix.ENOENT) {
			return err
		}
		return nil
	}
	return []step.Step{bind, ro}
}

// pivotSteps: pivot_root(".", ".") stacks the old root on top of the new
// one at "/"; unmounting it then drops every host mount with it. The old
// root is opened first and fchdir'ed to after the pivot, because the
// kernel does not promise what the cwd is after pivot_root(2) (runc does
// the same).
func (s *setup) pivotSteps() []step.Step {
	var oldRoot *os.File
	return []step.Step{
		{Op: "open", Args: `"/", O_DIRECTORY`, Why: whyPivotOldRoot,
			Do: func() error {
				f, err := os.OpenFile("/", unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
				oldRoot = f
				return err
			}},
		{Op: "fchdir", Args: fmt.Sprintf("%q", s.rootReal), Why: whyPivotChdir,
			Do: func() error { return unix.Fchdir(int(s.root.Fd())) }},
		{Op: "pivot_root", Args: `".", "."`, Why: whyPivot,
			Do: func() error { return unix.PivotRoot(".", ".") }},
		{Op: "fchdir", Args: `old root`, Why: whyPivotToOld,
			Do: func() error {
				defer oldRoot.Close()
				return unix.Fchdir(int(oldRoot.Fd()))
			}},
		{Op: "mount", Args: `"", ".", "", MS_SLAVE|MS_REC`, Why: whyPivotOldSlave,
			Do: func() error { return unix.Mount("", ".", "", unix.MS_SLAVE|unix.MS_REC, "") }},
		{Op: "umount2", Args: `".", MNT_DETACH`, Why: whyPivotUmount,
			Do: func() error { return unix.Unmount(".", unix.MNT_DETACH) }},
		{Op: "chdir", Args: `"/"`, Why: whyStartInRoot,
			Do: s.chdirRoot},
	}
}

// chrootSteps: the rootfs is moved onto "/" and chroot(2)ed into; the old
// root stays underneath, so chroot is weaker than pivot_root (runc's
// --no-pivot).
func (s *setup) chrootSteps() []step.Step {
	return []step.Step{
		{Op: "fchdir", Args: fmt.Sprintf("%q", s.rootReal), Why: whyChrootChdir,
			Do: func() error { return unix.Fchdir(int(s.root.Fd())) }},
		{Op: "mount", Args: `".", "/", "", MS_MOVE`, Why: whyChrootMove,
			Do: func() error { return unix.Mount(".", "/", "", unix.MS_MOVE, "") }},
		{Op: "chroot", Args: `"."`, Why: whyChroot,
			Do: func() error { return unix.Chroot(".") }},
		{Op: "chdir", Args: `"/"`, Why: whyStartInRoot,
			Do: s.chdirRoot},
	}
}

// chdirRoot is the last step that needs the handles, but for root when
// the final steps still use it; it closes them.
func (s *setup) chdirRoot() error {
	if err := unix.Chdir("/"); err != nil {
		return err
	}
	if s.devNull != nil {
		s.devNull.Close()
	}
	if s.root != nil && !s.keepRoot {
		s.root.Close()
	}
	s.closeTops()
	return nil
}

// rootPropagation is what prepareSteps sets on "/" for rootfsPropagation
// p (validated), and why.
func rootPropagation(p string) (uintptr, string) {
	flags, _ := ParsePropagation(p)
	switch {
	case flags == 0:
		return unix.MS_SLAVE | unix.MS_REC, "rootfsPropagation unset: rslave, as runc: the host's mounts reach us, ours never reach it"
	case flags&unix.MS_SHARED != 0:
		return flags, "rootfsPropagation shared: mounts under a shared bind go both ways (mount_namespaces(7))"
	case flags&unix.MS_SLAVE != 0:
		return flags, "rootfsPropagation slave: the host's mounts reach us, ours never reach it"
	}
	return flags, "rootfsPropagation: no mount or unmount of ours propagates to the host (mount_namespaces(7))"
}

// parentPrivate makes the mount that holds dir (dir itself if it is a
// mount point) private in this mount namespace. Its mount point is the
// nearest of dir and its parents that statx(2) reports as a mount root
// (STATX_ATTR_MOUNT_ROOT, Linux 5.8) with dir's mount ID: a few statx
// calls up a path already free of symlinks, where reading mountinfo
// costs as much as the host has mounts. Without the attribute, the mount
// ID is looked up in /proc/thread-self/mountinfo: this thread's mount
// namespace, which only this thread may have unshared.
func parentPrivate(dir string) error {
	mp, err := mountPointHolding(dir)
	if err != nil {
		return err
	}
	if err := unix.Mount("", mp, "", unix.MS_PRIVATE, ""); err != nil {
		return errorf("make %s private: %w", mp, err)
	}
	return nil
}

// mountPointHolding is the mount point of the mount dir is on (dir
// itself if it is a mount point); see parentPrivate.
func mountPointHolding(dir string) (string, error) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
		return "", errorf("statx %s: %w", dir, err)
	}
	if st.Mask&unix.STATX_MNT_ID == 0 {
		return "", errorf("statx %s: the kernel gave no mount ID", dir)
	}
	return mountRootAbove(dir, st)
}

// mountRootAbove walks from dir (st is its statx) up to the root of its
// mount, or asks mountinfo where the kernel has no STATX_ATTR_MOUNT_ROOT.
func mountRootAbove(dir string, st unix.Statx_t) (string, error) {
	id := st.Mnt_id
	for d := path.Clean(dir); ; {
		if st.Attributes_mask&unix.STATX_ATTR_MOUNT_ROOT == 0 {
			return mountPointOf(id)
		}
		if st.Mnt_id != id {
			// Moved meanwhile: ask the mount table.
			return mountPointOf(id)
		}
		if st.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0 {
			return d, nil
		}
		if d == "/" {
			return mountPointOf(id)
		}
		d = path.Dir(d)
		if err := unix.Statx(unix.AT_FDCWD, d, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_MNT_ID, &st); err != nil {
			return "", errorf("statx %s: %w", d, err)
		}
	}
}

// mountPointOf reads the mount point of mount ID id from
// /proc/thread-self/mountinfo (moby/sys/mountinfo).
func mountPointOf(id uint64) (string, error) {
	mounts, err := mountinfo.GetMounts(func(m *mountinfo.Info) (skip, stop bool) {
		return uint64(m.ID) != id, uint64(m.ID) == id
	})
	if err != nil {
		return "", err
	}
	if len(mounts) == 0 {
		return "", errorf("mount %d is not in /proc/thread-self/mountinfo", id)
	}
	return mounts[0].Mountpoint, nil
}

func (s *setup) propagationStep() step.Step {
	p, _ := ParsePropagation(s.cfg.Propagation)
	return step.Step{
		Op:   "mount",
		Args: fmt.Sprintf(`"", "/", "", %s`, FormatFlags(p)),
		Why:  whyPropagateRoot,
		Do:   func() error { return unix.Mount("", "/", "", p, "") },
	}
}

// procWriteStep writes w through the container's /proc, resolved in-root
// and written by package procfs (the one path sysctls take, the process
// CLI's too): a symlink or another filesystem at /proc or below it in the
// image must not redirect the write to the host's.
func (s *setup) procWriteStep(w ProcWrite) step.Step {
	p := path.Join("/proc", path.Clean("/"+w.Path))
	return step.Step{
		Op:   "write " + s.host(p),
		Args: fmt.Sprintf("%q", w.Value),
		Why:  w.Why + whyProcWrite,
		Do: func() error {
			proc, err := s.open("/proc")
			if err != nil {
				return err
			}
			defer proc.Close()
			if err := procfs.WriteAt(proc, w.Path, w.Value); err != nil {
				return errorf("write %s: %w", p, err)
			}
			return nil
		},
	}
}
