package rootfs

import (
	"fmt"
	"path"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// The ops for what goes in the rootfs after the mounts: process.cwd, the
// sysctls, masked and read-only paths.

// cwd makes process.cwd with its parents (cwdStep).
func (b *rawBuilder) cwd() error {
	from := len(b.p.Ops)
	b.mkdirRoot(b.s.cfg.Cwd, b.t, whyCwd)
	b.asStep(from, b.s.cwdStep(b.s.cfg.Cwd))
	b.close(b.t, "<cwd>")
	return nil
}

// procWrites writes each ProcWrite through the container's /proc,
// resolved in-root and checked to be a procfs, each file opened below it
// without following any symlink and checked again (procWriteStep,
// procfs.WriteAt).
func (b *rawBuilder) procWrites() error {
	proc := b.s.host("/proc")
	// Failures read as the Go steps' (procWriteStep, procfs.WriteAt),
	// the first write's for /proc itself, opened once for all here.
	from := len(b.p.Ops)
	i := b.openIn(b.root, "/proc", unix.O_PATH, b.fs, openInStep(proc, "O_PATH", "the container's /proc, where the sysctls are written"))
	b.p.SetErr(i, func(e syscall.Errno) error { return errorf("open /proc in rootfs: %w", e) })
	statfs, check := b.isProc(b.fs, fmt.Sprintf("<%s>", proc))
	b.procErrs(statfs, check, "/proc")
	how := b.p.Bytes(howBytes(unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_MAGICLINKS))
	for _, w := range b.s.cfg.ProcWrites {
		file := path.Join(proc, path.Clean("/"+w.Path))
		name := path.Join("/proc", path.Clean("/"+w.Path))
		j := b.op(step.Step{Op: "openat2", Args: fmt.Sprintf("<%s>, %q, O_WRONLY|O_NOFOLLOW, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS", proc, w.Path),
			Why: "below that procfs, no symlink followed"},
			b.x, unix.SYS_OPENAT2, []uintptr{0, b.str(w.Path), how, unsafe.Sizeof(unix.OpenHow{})}, b.fs)
		b.p.SetErr(j, func(e syscall.Errno) error { return errorf("open %s: %w", "/proc/"+w.Path, e) })
		statfs, check := b.isProc(b.x, fmt.Sprintf("<%s>", file))
		b.procErrs(statfs, check, "/proc/"+w.Path)
		val := b.p.Bytes([]byte(w.Value))
		k := b.op(step.Step{Op: "write " + file, Args: fmt.Sprintf("%q", w.Value), Why: w.Why + whyProcWrite},
			0, unix.SYS_WRITE, []uintptr{0, val, uintptr(len(w.Value))}, b.x)
		b.p.Ops[k].Check, b.p.Ops[k].Want = true, uintptr(len(w.Value)) // one write, whole
		for op := from; op < len(b.p.Ops); op++ {
			inner := b.p.Errs[op]
			b.p.SetErr(op, func(e syscall.Errno) error {
				var err error = e
				if inner != nil {
					err = inner(e)
				}
				return errorf("write %s: %w", name, err)
			})
		}
		b.asStep(from, b.s.procWriteStep(w))
		b.close(b.x, "<"+file+">")
		from = len(b.p.Ops)
	}
	b.close(b.fs, "<"+proc+">")
	return nil
}

// masks hides each masked path (maskStep): a missing one is skipped; a
// directory gets an empty read-only tmpfs, anything else a bind of the
// host's /dev/null.
func (b *rawBuilder) masks() error {
	for _, p := range b.s.cfg.MaskedPaths {
		host := b.s.host(p)
		name := "<" + host + ">"
		missing := b.orElse(b.openIn(b.root, p, unix.O_PATH, b.t, openInStep(host, "O_PATH", whyMask+" (ENOENT: nothing to hide)")), unix.ENOENT)
		file := b.orElse(b.isDir(b.t, name), unix.ENOTDIR)
		b.newFs("tmpfs", "tmpfs", unix.MS_RDONLY, nil, b.top, host)
		b.moveMount(b.top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("<read-only tmpfs>, %q", host), Why: whyMask + ": an empty read-only tmpfs over a directory"})
		done := b.goTo()
		b.p.JumpHere(file)
		b.openTreeFd(b.null, false, b.top, step.Step{Op: "open_tree", Args: `<"/dev/null">, "", OPEN_TREE_CLONE|AT_EMPTY_PATH`, Why: "a bind of /dev/null"})
		b.moveMount(b.top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf(`"/dev/null", %q`, host), Why: whyMask + ": /dev/null over a file"})
		b.p.JumpHere(done)
		b.close(b.top, "<mask>")
		b.close(b.t, name)
		b.p.JumpHere(missing)
	}
	return nil
}

// readonly binds p onto itself, with what is mounted below it, and makes
// that mount read-only (readonlySteps); a missing path is skipped.
func (b *rawBuilder) readonly(p string) error {
	host := b.s.host(p)
	name := "<" + host + ">"
	missing := b.orElse(b.openIn(b.root, p, unix.O_PATH, b.t, openInStep(host, "O_PATH", "readonly path (ENOENT: skipped)")), unix.ENOENT)
	b.openTreeFd(b.t, true, b.top, step.Step{Op: "open_tree", Args: name + `, "", OPEN_TREE_CLONE|AT_RECURSIVE|AT_EMPTY_PATH`, Why: whyReadonlyBind})
	b.moveMount(b.top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%q, %q", host, host), Why: whyReadonlyBind})
	a, _ := setattrFor(unix.MS_RDONLY, 0)
	b.setattr(b.top, 0, a, step.Step{Op: "mount_setattr", Args: fmt.Sprintf(`<bind on %s>, "", AT_EMPTY_PATH, %s`, host, FormatAttr(a)), Why: whyReadonlyRO})
	b.close(b.top, "<bind>")
	b.close(b.t, name)
	b.p.JumpHere(missing)
	return nil
}

// howBytes is a struct open_how as bytes.
func howBytes(flags int, resolve uint64) []byte {
	h := unix.OpenHow{Flags: uint64(flags), Resolve: resolve}
	return append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h))...)
}
