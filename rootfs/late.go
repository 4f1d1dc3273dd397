package rootfs

import (
	"fmt"
	"os"
	"path"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// lateMount is a mount made read-only (or given its recursive attributes)
// by the final steps, after everything that goes below it: runc mounts a
// tmpfs and /dev read-write and remounts them read-only in
// finalizeRootfs, so that /dev/pts, /dev/shm, the device nodes and the
// console can still be made under a read-only /dev.
type lateMount struct {
	dest string
	ro   bool           // MS_RDONLY asked for ("ro")
	rec  unix.MountAttr // recursive attributes asked for ("rro", ...)
	pin  *os.File       // the mount's root, opened right after the mount
}

// lateAttrs reports whether mount i of c is made read-only only by the
// final steps: a read-only (ro or rro) mount that is not a bind, and is a
// tmpfs (runc's rule: it may still be filled) or has something made below
// it later: a later mount, a device node or link of the minimal /dev, the
// console, a sysctl write, the process's cwd. A bind keeps its read-only remount where it is:
// creating a mount point below it would write into the host directory
// the config made read-only (runc fails the same way).
func (c *Config) lateAttrs(i int) bool {
	m := c.Mounts[i]
	opts, err := parseOptions(m)
	if err != nil || opts.bind() || !opts.readonly() {
		return false
	}
	if m.Type == "tmpfs" {
		return true
	}
	dir := path.Clean(m.Destination)
	var below []string
	for _, later := range c.Mounts[i+1:] {
		below = append(below, later.Destination)
	}
	if c.SetupDev {
		for _, d := range c.devices() {
			below = append(below, d.Path)
		}
		for _, l := range devLinks {
			below = append(below, "/dev/"+l.name)
		}
		below = append(below, "/dev/console")
	}
	for _, w := range c.ProcWrites {
		below = append(below, path.Join("/proc", w.Path))
	}
	if c.Cwd != "" {
		below = append(below, c.Cwd)
	}
	for _, p := range below {
		if isBelow(p, dir) {
			return true
		}
	}
	return false
}

// isBelow reports whether p is strictly below dir (both absolute).
func isBelow(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return len(p) > len(dir) && p[:len(dir)] == dir && (dir == "/" || p[len(dir)] == '/')
}

// pinStep opens the root of the mount just made at l.dest, so the final
// steps change exactly that mount, whatever is mounted over it or however
// the path resolves after the pivot.
func (s *setup) pinStep(l *lateMount) step.Step {
	return step.Step{
		Op:   "open",
		Args: fmt.Sprintf("%q, O_PATH", s.host(l.dest)),
		Why:  whyPin,
		Do: func() error {
			f, err := s.mountAt(l.dest) // the handle the mount step kept, if it could
			if err != nil {
				return err
			}
			l.pin = f
			return nil
		},
	}
}

// setattr is mount_setattr(2) on the mount whose root f is (AT_EMPTY_PATH;
// with AT_RECURSIVE, every mount below it too). Unlike a
// MS_REMOUNT|MS_BIND through /proc/thread-self/fd/N it needs no /proc,
// and changes only the attributes given.
func setattr(f *os.File, flags int, attr unix.MountAttr) error {
	err := unix.MountSetattr(int(f.Fd()), "", uint(unix.AT_EMPTY_PATH|flags), &attr)
	if err != nil {
		return errorf("mount_setattr: %w", err)
	}
	return nil
}

// recAttrStep applies the recursive options (rro, rnosuid, ...) to the
// mount at dest and every mount below it (config.md "mounts"; runc 1.1
// does it right after the mount, as here).
func (s *setup) recAttrStep(dest string, a unix.MountAttr) step.Step {
	return step.Step{
		Op:   "mount_setattr",
		Args: fmt.Sprintf(`%q, "", AT_EMPTY_PATH|AT_RECURSIVE, %s`, s.host(dest), FormatAttr(a)),
		Why:  whyRecAttrs,
		Do: func() error {
			t, err := s.mountAt(dest)
			if err != nil {
				return err
			}
			defer t.Close()
			return setattr(t, unix.AT_RECURSIVE, a)
		},
	}
}

// finalSteps run after the pivot and the caller's Config.BeforeFinal
// steps (the console): the late mounts made read-only, then the root
// (runc's finalizeRootfs order). The last one closes the rootfs handle.
func (s *setup) finalSteps() []step.Step {
	var steps []step.Step
	for _, l := range s.late {
		l := l
		before := len(steps)
		if l.ro {
			ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			steps = append(steps, step.Step{
				Op:   "mount_setattr",
				Args: fmt.Sprintf(`<pinned %s>, "", AT_EMPTY_PATH, %s`, l.dest, FormatAttr(ro)),
				Why:  whyLateRO,
				Do:   func() error { return setattr(l.pin, 0, ro) },
			})
		}
		if l.rec.Attr_set != 0 || l.rec.Attr_clr != 0 {
			steps = append(steps, step.Step{
				Op:   "mount_setattr",
				Args: fmt.Sprintf(`<pinned %s>, "", AT_EMPTY_PATH|AT_RECURSIVE, %s`, l.dest, FormatAttr(l.rec)),
				Why:  whyLateRec,
				Do:   func() error { return setattr(l.pin, unix.AT_RECURSIVE, l.rec) },
			})
		}
		if n := len(steps); n > before {
			do := steps[n-1].Do
			steps[n-1].Do = func() error {
				defer l.pin.Close()
				return do()
			}
		}
	}
	if s.cfg.Readonly {
		ro := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		steps = append(steps, step.Step{
			Op:   "mount_setattr",
			Args: fmt.Sprintf(`<rootfs %s>, "", AT_EMPTY_PATH, %s`, s.rootReal, FormatAttr(ro)),
			Why:  whyRootReadonly,
			Do:   func() error { return setattr(s.root, 0, ro) },
		})
	}
	if n := len(steps); n > 0 {
		do := steps[n-1].Do
		steps[n-1].Do = func() error {
			defer s.root.Close()
			return do()
		}
	}
	return steps
}
