package rootfs

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// The ops around the root itself: prepareSteps, pivotSteps or
// chrootSteps, propagationStep and finalSteps, as system calls.

// prepare: the host's /dev/null if paths are masked, propagation of "/",
// the mount holding the rootfs made private, the rootfs bound onto
// itself and opened: every later path is resolved below it.
func (b *rawBuilder) prepare() error {
	s := b.s
	if b.null != 0 {
		if err := checkDevNull(); err != nil {
			return err
		}
		b.op(step.Step{Op: "open", Args: `"/dev/null", O_PATH`, Why: whyDevNull}, b.null,
			unix.SYS_OPENAT, []uintptr{atFdcwd, b.str("/dev/null"), unix.O_PATH | unix.O_CLOEXEC})
		b.statxRdev(b.null, unix.Mkdev(1, 3), `"/dev/null"`, unix.ENODEV)
	}
	prop, why := rootPropagation(s.cfg.Propagation)
	b.op(step.Step{Op: "mount", Args: fmt.Sprintf(`NULL, "/", NULL, %s`, FormatFlags(prop)), Why: why},
		0, unix.SYS_MOUNT, []uintptr{0, b.str("/"), 0, prop, 0})
	b.op(step.Step{Op: "mount", Args: fmt.Sprintf(`NULL, %q, NULL, MS_PRIVATE`, b.pl.rootMount), Why: whyRootPrivate},
		0, unix.SYS_MOUNT, []uintptr{0, b.str(b.pl.rootMount), 0, unix.MS_PRIVATE, 0})
	b.op(step.Step{Op: "mount", Args: fmt.Sprintf(`%q, %q, NULL, MS_BIND|MS_REC`, s.rootReal, s.rootReal), Why: whyRootBind},
		0, unix.SYS_MOUNT, []uintptr{b.str(s.rootReal), b.str(s.rootReal), 0, unix.MS_BIND | unix.MS_REC, 0})
	b.op(step.Step{Op: "open", Args: fmt.Sprintf("%q, O_PATH|O_DIRECTORY", s.rootReal), Why: whyRootOpen}, b.root,
		unix.SYS_OPENAT, []uintptr{atFdcwd, b.str(s.rootReal), unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC})
	return nil
}

// checkDevNull checks, here, that the host's /dev/null is char 1:3; the
// child checks the device number of the one it opens again.
func checkDevNull() error {
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		return errorf("stat /dev/null: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		return errorf("/dev/null: not the null device (char 1:3)")
	}
	return nil
}

// pivot: pivot_root(".", ".") in the rootfs, then the old root stacked
// on top of it unmounted (pivotSteps).
func (b *rawBuilder) pivot() error {
	dot, slash := b.str("."), b.str("/")
	b.op(step.Step{Op: "open", Args: `"/", O_DIRECTORY`, Why: whyPivotOldRoot}, b.x,
		unix.SYS_OPENAT, []uintptr{atFdcwd, slash, unix.O_DIRECTORY | unix.O_RDONLY | unix.O_CLOEXEC})
	b.op(step.Step{Op: "fchdir", Args: fmt.Sprintf("%q", b.s.rootReal), Why: whyPivotChdir}, 0, unix.SYS_FCHDIR, nil, b.root)
	b.op(step.Step{Op: "pivot_root", Args: `".", "."`, Why: whyPivot}, 0, unix.SYS_PIVOT_ROOT, []uintptr{dot, dot})
	b.op(step.Step{Op: "fchdir", Args: "old root", Why: whyPivotToOld}, 0, unix.SYS_FCHDIR, nil, b.x)
	b.close(b.x, "<old root>")
	b.op(step.Step{Op: "mount", Args: `NULL, ".", NULL, MS_SLAVE|MS_REC`, Why: whyPivotOldSlave},
		0, unix.SYS_MOUNT, []uintptr{0, dot, 0, unix.MS_SLAVE | unix.MS_REC, 0})
	b.op(step.Step{Op: "umount2", Args: `".", MNT_DETACH`, Why: whyPivotUmount}, 0, unix.SYS_UMOUNT2, []uintptr{dot, unix.MNT_DETACH})
	b.chdirRoot()
	return nil
}

// chroot: the rootfs moved onto "/" and chroot(2)ed into (chrootSteps).
func (b *rawBuilder) chroot() error {
	dot := b.str(".")
	b.op(step.Step{Op: "fchdir", Args: fmt.Sprintf("%q", b.s.rootReal), Why: whyChrootChdir}, 0, unix.SYS_FCHDIR, nil, b.root)
	b.op(step.Step{Op: "mount", Args: `".", "/", NULL, MS_MOVE`, Why: whyChrootMove},
		0, unix.SYS_MOUNT, []uintptr{dot, b.str("/"), 0, unix.MS_MOVE, 0})
	b.op(step.Step{Op: "chroot", Args: `"."`, Why: whyChroot}, 0, unix.SYS_CHROOT, []uintptr{dot})
	b.chdirRoot()
	return nil
}

// chdirRoot: chdir("/"), and /dev/null is no longer needed.
func (b *rawBuilder) chdirRoot() {
	b.op(step.Step{Op: "chdir", Args: `"/"`, Why: whyStartInRoot}, 0, unix.SYS_CHDIR, []uintptr{b.str("/")})
	if b.null != 0 {
		b.close(b.null, `<"/dev/null">`)
	}
}

// propagation: rootfsPropagation on the new "/" (propagationStep).
func (b *rawBuilder) propagation() error {
	p, _ := ParsePropagation(b.s.cfg.Propagation)
	b.op(step.Step{Op: "mount", Args: fmt.Sprintf(`NULL, "/", NULL, %s`, FormatFlags(p)), Why: whyPropagateRoot},
		0, unix.SYS_MOUNT, []uintptr{0, b.str("/"), 0, p, 0})
	return nil
}

// final: the pinned late mounts made read-only and given their recursive
// attributes, then the root read-only (finalSteps); every pin closed.
func (b *rawBuilder) final() error {
	for _, l := range b.late {
		pin := fmt.Sprintf("<pinned %s>", l.lm.dest)
		if l.lm.ro {
			ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			b.setattr(l.reg, 0, ro, step.Step{Op: "mount_setattr",
				Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH, %s`, pin, FormatAttr(ro)), Why: whyLateRO})
		}
		if a := l.lm.rec; a.Attr_set != 0 || a.Attr_clr != 0 {
			b.setattr(l.reg, unix.AT_RECURSIVE, a, step.Step{Op: "mount_setattr",
				Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH|AT_RECURSIVE, %s`, pin, FormatAttr(a)), Why: whyLateRec})
		}
		b.close(l.reg, pin)
	}
	if b.s.cfg.Readonly {
		ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		b.setattr(b.root, 0, ro, step.Step{Op: "mount_setattr",
			Args: fmt.Sprintf(`<rootfs %s>, "", AT_EMPTY_PATH, %s`, b.s.rootReal, FormatAttr(ro)), Why: whyRootReadonly})
	}
	b.close(b.root, "<rootfs>")
	return nil
}
