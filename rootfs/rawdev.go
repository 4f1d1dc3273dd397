package rootfs

import (
	"fmt"
	"path"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// dev makes the minimal /dev (devSteps): each device node, then the
// links. Nodes in one directory share its handle.
func (b *rawBuilder) dev() error {
	open := "" // the directory b.dir holds
	in := func(dir string) {
		if dir == open {
			return
		}
		if open != "" {
			b.close(b.dir, "<"+open+">")
		}
		b.mkdirRoot(dir, b.dir, "the directory the node goes in")
		open = dir
	}
	umask := b.p.Reg()
	for _, d := range b.s.cfg.devices() {
		in(path.Dir(path.Clean(d.Path)))
		b.device(d, umask)
	}
	in("/dev")
	for _, l := range devLinks {
		name := b.s.host("/dev/" + l.name)
		if l.name == "ptmx" {
			b.p.JumpHere(b.orElse(b.op(step.Step{Op: "unlinkat", Args: fmt.Sprintf("%q, 0", name), Why: "/dev/ptmx must lead to this container's devpts (ENOENT: nothing there)"},
				0, unix.SYS_UNLINKAT, []uintptr{0, b.str(l.name), 0}, b.dir), unix.ENOENT))
		}
		b.p.JumpHere(b.orElse(b.op(step.Step{Op: "symlinkat", Args: fmt.Sprintf("%q, %q", l.target, name), Why: whyDevLinks + " (EEXIST: kept)"},
			0, unix.SYS_SYMLINKAT, []uintptr{b.str(l.target), 0, b.str(l.name)}, 0, b.dir), unix.EEXIST))
	}
	b.close(b.dir, "</dev>")
	return nil
}

// device makes one node in the directory b.dir holds (makeDevice):
// mknodat(2) with the umask cleared, so the node has the config's mode
// at once (makeDevice's chmod), then its owner set through a handle
// checked to be that device. A node there already must be that device
// (sameDevice); where mknod is not allowed (EPERM: a user namespace) the
// host's node is bound onto an empty file (bindDevice).
func (b *rawBuilder) device(d specs.LinuxDevice, umask raw.Reg) {
	p := path.Clean(d.Path)
	base, host := b.str(path.Base(p)), b.s.host(p)
	mode := devMode(d)
	rdev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	b.op(step.Step{Op: "umask", Args: "0", Why: "the node gets the config's mode exactly"}, umask, unix.SYS_UMASK, []uintptr{0})
	mk := b.orElse(b.op(step.Step{Op: "mknodat", Args: fmt.Sprintf("%q, %s|%#o, %d:%d", host, fileType(mode), mode&0o7777, d.Major, d.Minor),
		Why: whyDevice + " (EEXIST: must be that device)"},
		0, unix.SYS_MKNODAT, []uintptr{0, base, uintptr(mode), uintptr(rdev)}, b.dir), unix.EEXIST, unix.EPERM)
	restore := step.Step{Op: "umask", Args: "<as it was>", Why: ""}
	b.op(restore, 0, unix.SYS_UMASK, nil, umask)
	// Only the node just made is touched, through a handle that does not
	// follow a symlink swapped in (openNode).
	b.op(step.Step{Op: "openat", Args: fmt.Sprintf("%q, O_PATH|O_NOFOLLOW", host), Why: "the node just made, by a handle"},
		b.x, unix.SYS_OPENAT, []uintptr{0, base, unix.O_PATH | unix.O_NOFOLLOW | unix.O_CLOEXEC}, b.dir)
	b.statxRdev(b.x, rdev, "<"+host+">", unix.EEXIST)
	uid, gid := ^uintptr(0), ^uintptr(0)
	if d.UID != nil {
		uid = uintptr(*d.UID)
	}
	if d.GID != nil {
		gid = uintptr(*d.GID)
	}
	b.op(step.Step{Op: "fchownat", Args: fmt.Sprintf(`<%s>, "", %d, %d, AT_EMPTY_PATH`, host, int32(uid), int32(gid)), Why: "the node's owner, as the config says"},
		0, unix.SYS_FCHOWNAT, []uintptr{0, b.str(""), uid, gid, unix.AT_EMPTY_PATH}, b.x)
	b.close(b.x, "<"+host+">")
	done := b.goTo()

	// EEXIST or EPERM: what is there must be that device; nothing there
	// (ENOENT) means mknod was refused.
	b.p.JumpHere(mk)
	b.op(restore, 0, unix.SYS_UMASK, nil, umask)
	st := b.orElse(b.op(step.Step{Op: "statx", Args: fmt.Sprintf("%q, AT_SYMLINK_NOFOLLOW, STATX_TYPE", host), Why: "what is there (ENOENT: mknod was not allowed)"},
		0, unix.SYS_STATX, []uintptr{0, base, unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, addr(b.statx)}, b.dir), unix.ENOENT)
	b.rdevIs(rdev, fmt.Sprintf("%q", host), unix.EEXIST)
	done2 := b.goTo()

	b.p.JumpHere(st)
	b.openTree(p, false, false, b.top, "mknod is not allowed here: bind the host's node")
	b.statxRdev(b.top, rdev, fmt.Sprintf("<host %s>", p), unix.ENODEV)
	b.createIn(b.dir, p, b.t, "the file the host's node is bound onto")
	b.moveMount(b.top, b.t, step.Step{Op: "move_mount", Args: fmt.Sprintf("%q, %q", p, host), Why: whyDevice})
	b.close(b.t, "<target>")
	b.close(b.top, "<bind>")
	b.p.JumpHere(done, done2)
}

// createIn is createFile with the parent directory open in dir already.
func (b *rawBuilder) createIn(dir raw.Reg, p string, out raw.Reg, why string) {
	mk := b.orElse(b.op(step.Step{Op: "openat", Args: fmt.Sprintf("%q, O_CREAT|O_EXCL|O_NOFOLLOW|O_RDONLY, 0644", b.s.host(p)), Why: why + " (EEXIST: opened in-root)"},
		out, unix.SYS_OPENAT, []uintptr{0, b.str(path.Base(p)), unix.O_CREAT | unix.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_RDONLY, 0o644}, dir), unix.EEXIST)
	b.p.SetErr(mk, func(e syscall.Errno) error { return errorf("create %s in rootfs: %w", p, e) })
	done := b.goTo()
	b.p.JumpHere(mk)
	i := b.openIn(b.root, p, unix.O_PATH, out, openInStep(b.s.host(p), "O_PATH", "the file there already"))
	b.p.SetErr(i, func(e syscall.Errno) error { return errorf("open %s in rootfs: %w", p, e) })
	b.p.JumpHere(done)
}
