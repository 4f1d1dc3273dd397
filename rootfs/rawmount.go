package rootfs

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// mount appends config mount i (mountSteps): the mount, its flags, its
// propagation changes, its recursive attributes; a late mount stays
// pinned in a register of its own for the final steps.
func (b *rawBuilder) mount(i int) error {
	m, rm := b.s.cfg.Mounts[i], b.pl.mounts[i]
	top := b.top
	if rm.late != nil {
		top = b.p.Reg()
		b.late = append(b.late, rawLate{lm: rm.late, reg: top})
	}
	name := fmt.Sprintf("<mount on %s>", b.s.host(rm.dest))
	switch rm.kind {
	case rawBind:
		b.bind(m, rm, top, name)
	case rawCgroupV1:
		b.cgroupV1(rm, top, name)
	default:
		b.fsMount(m, rm, top, name)
	}
	for _, p := range rm.opts.propagation {
		b.propagate(top, p, name, whyPropagation)
	}
	if rm.opts.hasRec() {
		b.setattr(top, unix.AT_RECURSIVE, rm.opts.rec, step.Step{Op: "mount_setattr",
			Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH|AT_RECURSIVE, %s`, name, FormatAttr(rm.opts.rec)), Why: whyRecAttrs})
	}
	if rm.late == nil {
		b.close(top, name) // a late mount's fd stays pinned (whyPin)
	}
	return nil
}

// bind: the source's mount tree cloned (open_tree(2) OPEN_TREE_CLONE,
// AT_RECURSIVE for rbind), the target made in-root as a directory or a
// file like the source, the clone attached there (move_mount(2)), then
// the flags a bind takes only after (mount_setattr(2), as remountStep).
func (b *rawBuilder) bind(m specs.Mount, rm rawMount, top raw.Reg, name string) {
	rec := rm.opts.flags&unix.MS_REC != 0
	from := len(b.p.Ops)
	src := m.Source
	i := b.openTree(src, rec, false, top, "a detached copy of the source's mount, to bind")
	b.p.SetErr(i, func(e syscall.Errno) error { return &fs.PathError{Op: "open", Path: src, Err: e} })
	if rm.srcDir {
		b.mkdirRoot(rm.dest, b.t, "the bind's target directory")
	} else {
		b.createFile(rm.dest, b.t, "the bind's target file")
	}
	b.moveMount(top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%q, %q", m.Source, b.s.host(rm.dest)), Why: whyBind})
	// The Go step's line (mountSteps' bind).
	b.asStep(from, step.Step{Op: "mount", Args: fmt.Sprintf("%q, %q, \"\", %s", m.Source, b.s.host(rm.dest), FormatFlags(rm.opts.flags&(unix.MS_BIND|unix.MS_REC)))})
	b.close(b.t, "<target>")
	rest := rm.opts.flags &^ (unix.MS_BIND | unix.MS_REC)
	if rest != 0 || rm.opts.clear != 0 {
		a, _ := setattrFor(rest, rm.opts.clear) // planMount checked it maps
		b.setattr(top, 0, a, step.Step{Op: "mount_setattr",
			Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH, %s`, name, FormatAttr(a)), Why: whyBindFlags})
	}
}

// fsMount: a new filesystem instance made detached (fsopen(2),
// fsconfig(2) for the source, the filesystem flags and each option,
// fsmount(2) with the mount's own flags) and attached onto a directory
// made in-root: what mount(2) does with the same flags and data
// (fsMountStep). A cgroup2 mount the kernel refuses (EPERM, EBUSY) is a
// bind of the host's cgroup2 mount instead (cgroup2Fallback).
func (b *rawBuilder) fsMount(m specs.Mount, rm rawMount, top raw.Reg, name string) {
	fstype, source := m.Type, m.Source
	if fstype == "cgroup" {
		fstype = "cgroup2" // on a pure cgroup v2 host (planMount)
	}
	if source == "" {
		source = fstype
	}
	from := len(b.p.Ops)
	defer b.asStep(from, b.s.fsMountStep(m, rm.dest, rm.opts))
	b.mkdirRoot(rm.dest, b.t, whyFs(fstype))
	var data []string
	for _, d := range rm.opts.data {
		if fstype == "tmpfs" {
			data = append(data, d) // as newFs passes them
		} else {
			data = append(data, strings.Split(d, ",")...) // as mount(2) splits its data
		}
	}
	open, create := b.newFs(fstype, source, rm.opts.flags, data, top, b.s.host(rm.dest))
	if fstype != "cgroup2" || b.pl.v2mnt == "" {
		b.moveMount(top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%s, %q", name, b.s.host(rm.dest)), Why: whyFs(fstype)})
		b.close(b.t, "<target>")
		return
	}
	b.orElse(open, unix.EPERM, unix.EBUSY)
	b.orElse(create, unix.EPERM, unix.EBUSY)
	attach := b.goTo()
	b.p.JumpHere(create)
	b.close(b.fs, "<cgroup2 context>")
	b.p.JumpHere(open)
	b.openTree(b.pl.v2mnt, true, false, top, "a new cgroup2 mount was refused (a user namespace without its own cgroup namespace): bind the host's, as runc does")
	b.moveMount(top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%q, %q", b.pl.v2mnt, b.s.host(rm.dest)), Why: "the host's cgroup2 instead"})
	if rest := rm.opts.flags &^ unix.MS_REC; rest != 0 {
		a, _ := setattrFor(rest, 0)
		b.setattr(top, 0, a, step.Step{Op: "mount_setattr", Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH, %s`, name, FormatAttr(a)), Why: whyBindFlags})
	}
	done := b.goTo()
	b.p.JumpHere(attach)
	b.moveMount(top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%s, %q", name, b.s.host(rm.dest)), Why: whyFs(fstype)})
	b.p.JumpHere(done)
	b.close(b.t, "<target>")
}

// newFs appends fsopen, fsconfig and fsmount of a new fstype instance
// for the mount at host path dest into top (newFs's calls; the
// filesystem flags of mount(2), sbFlags, as fsconfig flags). It returns
// the fsopen and the create ops, for an Else.
func (b *rawBuilder) newFs(fstype, source string, flags uintptr, data []string, top raw.Reg, dest string) (open, create int) {
	ctx := fmt.Sprintf("<%s for %s>", fstype, dest)
	open = b.op(step.Step{Op: "fsopen", Args: fmt.Sprintf("%q, FSOPEN_CLOEXEC", fstype), Why: "a new " + fstype + " instance, configured before it is mounted"},
		b.fs, unix.SYS_FSOPEN, []uintptr{b.str(fstype), unix.FSOPEN_CLOEXEC})
	b.fsconfig(ctx, unix.FSCONFIG_SET_STRING, "source", source, "")
	for _, f := range sbFlags {
		if flags&f.flag != 0 {
			b.fsconfig(ctx, unix.FSCONFIG_SET_FLAG, f.name, "", "a flag of the filesystem itself, as mount(2) sets it")
		}
	}
	for _, d := range data {
		if d == "" {
			continue
		}
		if k, v, ok := strings.Cut(d, "="); ok {
			b.fsconfig(ctx, unix.FSCONFIG_SET_STRING, k, v, "")
		} else {
			b.fsconfig(ctx, unix.FSCONFIG_SET_FLAG, k, "", "")
		}
	}
	create = b.op(step.Step{Op: "fsconfig", Args: ctx + ", FSCONFIG_CMD_CREATE", Why: "make the " + fstype + " instance"},
		0, unix.SYS_FSCONFIG, []uintptr{0, unix.FSCONFIG_CMD_CREATE, 0, 0, 0}, b.fs)
	attrs, _ := fsAttrs(flags)
	b.op(step.Step{Op: "fsmount", Args: fmt.Sprintf("%s, FSMOUNT_CLOEXEC, %s", ctx, formatAttrBits(attrs)), Why: "a detached mount of it, with the mount's flags"},
		top, unix.SYS_FSMOUNT, []uintptr{0, unix.FSMOUNT_CLOEXEC, uintptr(attrs)}, b.fs)
	b.close(b.fs, ctx)
	return open, create
}

// fsconfig sets one option of the filesystem context in b.fs, named ctx.
func (b *rawBuilder) fsconfig(ctx string, cmd uintptr, key, value, why string) {
	if why == "" {
		why = "an option of the filesystem"
	}
	if cmd == unix.FSCONFIG_SET_FLAG {
		b.op(step.Step{Op: "fsconfig", Args: fmt.Sprintf("%s, FSCONFIG_SET_FLAG, %q", ctx, key), Why: why},
			0, unix.SYS_FSCONFIG, []uintptr{0, cmd, b.str(key), 0, 0}, b.fs)
		return
	}
	b.op(step.Step{Op: "fsconfig", Args: fmt.Sprintf("%s, FSCONFIG_SET_STRING, %q, %q", ctx, key, value), Why: why},
		0, unix.SYS_FSCONFIG, []uintptr{0, cmd, b.str(key), b.str(value), 0}, b.fs)
}

// cgroupV1: a tmpfs at the destination, then the container's own group
// of each host hierarchy bound in a directory of its own, made private
// and given the mount's flags; the tmpfs made read-only once filled
// (cgroupV1Steps with a CgroupView, bindOwnHierarchy).
func (b *rawBuilder) cgroupV1(rm rawMount, top raw.Reg, name string) {
	flags := rm.opts.flags &^ unix.MS_RDONLY
	b.mkdirRoot(rm.dest, b.t, whyCgroupTmpfs)
	b.newFs("tmpfs", "tmpfs", flags, []string{"mode=755"}, top, b.s.host(rm.dest))
	b.moveMount(top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%s, %q", name, b.s.host(rm.dest)), Why: whyCgroupTmpfs})
	b.close(b.t, "<target>")
	hflags := rm.cgroupFlags() &^ unix.MS_REC
	for _, h := range b.pl.cgroups {
		dest := path.Join(rm.dest, h.name)
		hname := fmt.Sprintf("<bind on %s>", b.s.host(dest))
		b.openTree(h.src, false, true, b.fs, "the container's own group of this hierarchy")
		b.mkdirAll(b.root, dest, b.t, b.s.host, "the hierarchy's directory", knownParent) // in the new tmpfs
		b.moveMount(b.fs, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%q, %q", h.src, b.s.host(dest)), Why: whyCgroupView})
		b.close(b.t, "<target>")
		b.propagate(b.fs, unix.MS_PRIVATE, hname, "private, as a new mount is")
		if hflags != 0 {
			a, _ := setattrFor(hflags, 0)
			b.setattr(b.fs, 0, a, step.Step{Op: "mount_setattr", Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH, %s`, hname, FormatAttr(a)), Why: "the mount's flags"})
		}
		b.close(b.fs, hname)
	}
	if rm.opts.flags&unix.MS_RDONLY != 0 && rm.late == nil {
		a, _ := setattrFor(rm.opts.flags, 0)
		b.setattr(top, 0, a, step.Step{Op: "mount_setattr", Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH, %s`, name, FormatAttr(a)), Why: whyCgroupTmpfsRO})
	}
}
