package rootfs

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// rawBuilder appends RawSteps' ops to a raw.Prog. Its registers hold the
// fds the child opens; each is closed once its last op ran, so a config
// with hundreds of mounts never holds more than a handful at once.
type rawBuilder struct {
	p   *raw.Prog
	s   *setup
	pl  *rawPlan
	err error // the first string that could not be passed (a NUL in it)

	root raw.Reg // the rootfs bind, every path is resolved below it
	t    raw.Reg // the mount target (or the directory a step works in)
	top  raw.Reg // the mount just made, for its flags and propagation
	fs   raw.Reg // a filesystem context (fsopen), the container's /proc
	walk raw.Reg // mkdir -p: the parent of the component made
	dir  raw.Reg // the directory a file or node is made in
	x    raw.Reg // scratch: a type check, a /proc file, the old root
	null raw.Reg // the host's /dev/null, what masks a file
	cg   raw.Reg // the cgroup v1 tmpfs, the hierarchies are bound below it

	late []rawLate // pinned until the final steps, in mount order

	statx, statfs []byte // buffers the child's statx(2), fstatfs(2) fill
	hows          map[[2]uint64]uintptr
	strs          map[string]uintptr
}

// rawLate is a late mount (see lateMount) pinned in a register of its own.
type rawLate struct {
	lm  *lateMount
	reg raw.Reg
}

func newRawBuilder(s *setup, pl *rawPlan, p *raw.Prog) *rawBuilder {
	b := &rawBuilder{p: p, s: s, pl: pl, hows: map[[2]uint64]uintptr{}, strs: map[string]uintptr{}}
	for _, r := range []*raw.Reg{&b.root, &b.t, &b.top, &b.fs, &b.walk, &b.dir, &b.x} {
		*r = p.Reg()
	}
	if len(s.cfg.MaskedPaths) > 0 {
		b.null = p.Reg()
	}
	if len(pl.cgroups) > 0 {
		b.cg = p.Reg()
	}
	// uint64s: aligned for the words Eq reads.
	for _, buf := range []*[]byte{&b.statx, &b.statfs} {
		words := make([]uint64, (unsafe.Sizeof(unix.Statx_t{})+7)/8)
		p.Keep(words)
		*buf = unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), len(words)*8)
	}
	return b
}

// addr is the address of buf, which the Prog keeps alive.
func addr(buf []byte) uintptr { return uintptr(unsafe.Pointer(&buf[0])) }

// atFdcwd is AT_FDCWD as a word: a path relative to the cwd (an absolute
// host path, before the pivot).
var atFdcwd = func() uintptr { v := unix.AT_FDCWD; return uintptr(v) }()

// str is a NUL-terminated copy of v the child can pass, one per string.
func (b *rawBuilder) str(v string) uintptr {
	if p, ok := b.strs[v]; ok {
		return p
	}
	p, err := b.p.Str(v)
	if err != nil && b.err == nil {
		b.err = err
	}
	b.strs[v] = p
	return p
}

// how is a struct open_how the child passes to openat2(2).
func (b *rawBuilder) how(flags int, resolve uint64) uintptr {
	k := [2]uint64{uint64(flags | unix.O_CLOEXEC), resolve}
	if p, ok := b.hows[k]; ok {
		return p
	}
	h := unix.OpenHow{Flags: k[0], Resolve: resolve}
	p := b.p.Bytes(unsafe.Slice((*byte)(unsafe.Pointer(&h)), unsafe.Sizeof(h)))
	b.hows[k] = p
	return p
}

// attr is a struct mount_attr the child passes to mount_setattr(2).
func (b *rawBuilder) attr(a unix.MountAttr) uintptr {
	return b.p.Bytes(unsafe.Slice((*byte)(unsafe.Pointer(&a)), unsafe.Sizeof(a)))
}

// op appends trap(args) described by st; in[i], if set, replaces args[i]
// by a register's value; out, if set, gets the result.
func (b *rawBuilder) op(st step.Step, out raw.Reg, trap uintptr, args []uintptr, in ...raw.Reg) int {
	o := raw.Op{Trap: trap, Out: out}
	copy(o.Args[:], args)
	copy(o.In[:], in)
	return b.p.Add(o, st)
}

// orElse makes op i continue at the op Jump names (set with JumpHere)
// when it fails with one of errs.
func (b *rawBuilder) orElse(i int, errs ...syscall.Errno) int {
	copy(b.p.Ops[i].Else[:], errs)
	return i
}

// jumpTo makes op i (an Else or Goto) continue at op target.
func (b *rawBuilder) jumpTo(i int, target int32) { b.p.Ops[i].Jump = target }

// goTo appends a jump, its target set later (JumpHere).
func (b *rawBuilder) goTo() int { return b.p.Add(raw.Op{Trap: raw.Goto}, step.Step{}) }

// close closes the fd in r; --explain leaves it out (hygiene, not a
// step of the container's setup).
func (b *rawBuilder) close(r raw.Reg, what string) {
	o := raw.Op{Trap: unix.SYS_CLOSE}
	o.In[0] = r
	b.p.AddQuiet(o, step.Step{Op: "close", Args: what})
}

// Flags of the in-root opens (openInRoot's).
const inRoot = unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS

// openIn opens rel below the directory in base, in-root (RESOLVE_IN_ROOT:
// ".." and symlinks stop at base), into out.
func (b *rawBuilder) openIn(base raw.Reg, rel string, flags int, out raw.Reg, st step.Step) int {
	return b.op(st, out, unix.SYS_OPENAT2, []uintptr{0, b.str(rel), b.how(flags, inRoot), unsafe.Sizeof(unix.OpenHow{})}, base)
}

// openInStep describes an in-root open of host path name.
func openInStep(name, flags, why string) step.Step {
	return step.Step{Op: "openat2", Args: fmt.Sprintf("%q, %s, RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS", name, flags), Why: why}
}

// mkdirAll leaves in out an O_PATH handle on directory rel below base,
// made with its missing parents, as mkdirAllIn does: one in-root
// openat2(2) when it is there; else the deepest ancestor that exists
// (rel's prefixes tried from the end, in-root), then each missing
// component made there with mkdirat(2) (EEXIST: there already) and opened
// with O_NOFOLLOW, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV,
// from which the next is made: a symlink in the part to make fails the
// open (ELOOP), as in the Go steps, whose error texts its failures give
// ("mkdir REL in rootfs: ..."). known says what exists for sure at this
// point: knownParent, its parent (the cgroup tmpfs just mounted, where
// only the directories made in it are). name gives the host path of a
// path below base, for --explain.
func (b *rawBuilder) mkdirAll(base raw.Reg, rel string, out raw.Reg, name func(string) string, why string, known int) {
	clean := strings.TrimLeft(path.Clean("/"+rel), "/")
	if clean == "" {
		clean = "."
	}
	from := len(b.p.Ops)
	fast := b.orElse(b.openIn(base, rel, unix.O_PATH|unix.O_DIRECTORY, out,
		openInStep(name(clean), "O_PATH|O_DIRECTORY", why+" (ENOENT: made)")), unix.ENOENT)
	done := b.goTo()
	b.p.JumpHere(fast)
	if known == knownParent {
		parts := strings.Split(clean, "/")
		n := len(parts)
		parent := strings.Join(parts[:n-1], "/")
		b.openIn(base, parent, unix.O_PATH|unix.O_DIRECTORY, b.walk,
			openInStep(name(parent), "O_PATH|O_DIRECTORY", "the parent"))
		mk := b.orElse(b.op(step.Step{Op: "mkdirat", Args: strconv.Quote(name(clean)) + ", 0755",
			Why: "the missing directory, made in its parent's fd (EEXIST: there already)"},
			0, unix.SYS_MKDIRAT, []uintptr{0, b.str(parts[n-1]), 0o755}, b.walk), unix.EEXIST)
		b.p.JumpHere(mk)
		b.close(b.walk, "<parent>")
		b.openIn(base, rel, unix.O_PATH|unix.O_DIRECTORY, out, openInStep(name(clean), "O_PATH|O_DIRECTORY", "the directory made"))
		b.p.JumpHere(done)
		b.mkdirErrs(from, rel)
		return
	}
	// The deepest ancestor that exists, found from the end (mkdirAllIn's
	// loop over rel itself, not a cleaned copy: the same prefixes).
	var dones []int
	for end := len(rel); ; {
		i := strings.LastIndexByte(rel[:end], '/')
		if i <= 0 {
			break
		}
		up := b.orElse(b.openIn(base, rel[:i], unix.O_PATH|unix.O_DIRECTORY, b.walk,
			openInStep(name(rel[:i]), "O_PATH|O_DIRECTORY", "an ancestor that exists? (ENOENT: try the next one up)")), unix.ENOENT)
		b.makeBelow(rel, rel[i+1:], out, name)
		dones = append(dones, b.goTo())
		b.p.JumpHere(up)
		end = i
	}
	b.openIn(base, ".", unix.O_PATH|unix.O_DIRECTORY, b.walk, openInStep(name("."), "O_PATH|O_DIRECTORY", "no ancestor exists: make every component from the root"))
	b.makeBelow(rel, strings.TrimLeft(rel, "/"), out, name)
	b.p.JumpHere(append(dones, done)...)
	b.mkdirErrs(from, rel)
}

// makeBelow makes each component of rest below the directory in b.walk
// and leaves the last one's handle in out (mkdirAllIn's loop): mkdirat
// (EEXIST: there, or not a directory, which the open finds), then the
// component opened with no symlink followed, the next made in it (b.walk
// and b.x take turns holding the parent). ".." in rest, or nothing to
// make, fails ENOENT with mkdirAllIn's text.
func (b *rawBuilder) makeBelow(rel, rest string, out raw.Reg, name func(string) string) {
	made := strings.TrimSuffix(rel, rest)
	nofollow := b.how(unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, unix.RESOLVE_BENEATH|unix.RESOLVE_NO_SYMLINKS|unix.RESOLVE_NO_XDEV)
	var parts []string
	for _, part := range strings.Split(rest, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			b.close(b.walk, "<parent>")
			i := b.p.Add(raw.Op{Trap: raw.Fail, Args: [6]uintptr{uintptr(unix.ENOENT)}},
				step.Step{Op: "mkdirat", Args: strconv.Quote(rel), Why: "'..' in the part to make is refused"})
			b.p.SetErr(i, func(e syscall.Errno) error { return errorf("%w: %q: '..' in the part to make", e, rel) })
			return
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		// Only "." left: rel was found missing, then was there.
		b.close(b.walk, "<parent>")
		i := b.p.Add(raw.Op{Trap: raw.Fail, Args: [6]uintptr{uintptr(unix.ENOENT)}}, step.Step{Op: "mkdirat", Args: strconv.Quote(rel)})
		b.p.SetErr(i, func(e syscall.Errno) error { return errorf("%q: %w", rel, e) })
		return
	}
	cur, next := b.walk, b.x
	for k, part := range parts {
		made = path.Join(made, part)
		host := name(strings.TrimLeft(path.Clean("/"+made), "/"))
		mk := b.orElse(b.op(step.Step{Op: "mkdirat", Args: strconv.Quote(host) + ", 0755",
			Why: "a missing directory, made in its parent's fd (EEXIST: there already)"},
			0, unix.SYS_MKDIRAT, []uintptr{0, b.str(part), 0o755}, cur), unix.EEXIST)
		part := part
		b.p.SetErr(mk, func(e syscall.Errno) error { return errorf("mkdirat %s: %w", part, e) })
		b.p.JumpHere(mk)
		dst := next
		if k == len(parts)-1 {
			dst = out
		}
		i := b.op(step.Step{Op: "openat2", Args: fmt.Sprintf("<parent>, %q, O_PATH|O_DIRECTORY|O_NOFOLLOW, RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_XDEV", part),
			Why: "the directory made, no symlink followed: the next is made in it"},
			dst, unix.SYS_OPENAT2, []uintptr{0, b.str(part), nofollow, unsafe.Sizeof(unix.OpenHow{})}, cur)
		b.p.SetErr(i, func(e syscall.Errno) error { return errorf("open %s after mkdirat: %w", part, e) })
		b.close(cur, "<parent>")
		cur, next = dst, cur
	}
}

// mkdirErrs makes a failure of each op from index from on read as
// mkdirAll's error ("mkdir REL in rootfs: ..."), under the op's own step
// until asStep puts the Go step around it.
func (b *rawBuilder) mkdirErrs(from int, rel string) {
	for i := from; i < len(b.p.Ops); i++ {
		inner, st := b.p.Errs[i], raw.Desc(b.p.Steps[i])
		b.p.SetErr(i, func(e syscall.Errno) error {
			var err error = e
			if inner != nil {
				err = inner(e)
			}
			return &step.Error{Step: st, Err: errorf("mkdir %s in rootfs: %w", rel, err)}
		})
	}
}

// asStep makes a failure of each op from index from on read as the Go
// step st's error: what the op's own error says (mkdirErrs' text, or the
// bare errno) after st's op and arguments, the line the Go init gives.
func (b *rawBuilder) asStep(from int, st step.Step) {
	st = raw.Desc(st)
	for i := from; i < len(b.p.Ops); i++ {
		inner := b.p.Errs[i]
		b.p.SetErr(i, func(e syscall.Errno) error {
			var err error = e
			if inner != nil {
				err = inner(e)
				if se, ok := err.(*step.Error); ok {
					err = se.Err
				}
			}
			return &step.Error{Step: st, Err: err}
		})
	}
}

// What mkdirAll may take for granted.
const (
	knownNothing = iota
	knownParent  // the parent directory exists
)

// mkdirRoot is mkdirAll below the rootfs. What earlier ops made is not
// taken for granted: an image's symlinks can make a later mount land on
// an ancestor of an earlier one and hide it.
func (b *rawBuilder) mkdirRoot(p string, out raw.Reg, why string) {
	b.mkdirAll(b.root, p, out, b.s.host, why, knownNothing)
}

// createFile leaves in out a handle on file p in the rootfs, made empty
// if missing (createFile's ops): the parent made in-root, the file
// created there with O_CREAT|O_EXCL|O_NOFOLLOW (never through a
// symlink), or, if it exists, opened in-root.
func (b *rawBuilder) createFile(p string, out raw.Reg, why string) {
	p = path.Clean(p)
	b.mkdirRoot(path.Dir(p), b.dir, "the directory the file goes in")
	b.createIn(b.dir, p, out, why)
	b.close(b.dir, "<parent>")
}

// moveMount attaches the detached mount in from onto the target in to.
func (b *rawBuilder) moveMount(from, to raw.Reg, st step.Step) int {
	e := b.str("")
	return b.op(st, 0, unix.SYS_MOVE_MOUNT, []uintptr{0, e, 0, e, unix.MOVE_MOUNT_F_EMPTY_PATH | unix.MOVE_MOUNT_T_EMPTY_PATH}, from, 0, to)
}

// setattr is mount_setattr(2) on the mount whose root r is.
func (b *rawBuilder) setattr(r raw.Reg, flags int, a unix.MountAttr, st step.Step) int {
	return b.op(st, 0, unix.SYS_MOUNT_SETATTR, []uintptr{0, b.str(""), uintptr(unix.AT_EMPTY_PATH | flags), b.attr(a), unsafe.Sizeof(a)}, r)
}

// propagate sets propagation type p (MS_SHARED, MS_SLAVE|MS_REC, ...)
// on the mount in r, as mount(2) does with p alone.
func (b *rawBuilder) propagate(r raw.Reg, p uintptr, name, why string) {
	flags := 0
	if p&unix.MS_REC != 0 {
		flags = unix.AT_RECURSIVE
	}
	b.setattr(r, flags, unix.MountAttr{Propagation: uint64(p &^ unix.MS_REC)}, step.Step{Op: "mount_setattr",
		Args: fmt.Sprintf(`%s, "", AT_EMPTY_PATH%s, propagation %s`, name, recName(flags), FormatFlags(p&^unix.MS_REC)), Why: why})
}

func recName(flags int) string {
	if flags&unix.AT_RECURSIVE != 0 {
		return "|AT_RECURSIVE"
	}
	return ""
}

// openTree clones the mount tree at host path src (a bind's source)
// into out, detached: OPEN_TREE_CLONE, with its submounts if rec.
func (b *rawBuilder) openTree(src string, rec, nofollow bool, out raw.Reg, why string) int {
	flags, names := uintptr(unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC), "OPEN_TREE_CLONE"
	if rec {
		flags, names = flags|unix.AT_RECURSIVE, names+"|AT_RECURSIVE"
	}
	if nofollow {
		flags, names = flags|unix.AT_SYMLINK_NOFOLLOW, names+"|AT_SYMLINK_NOFOLLOW"
	}
	return b.op(step.Step{Op: "open_tree", Args: fmt.Sprintf("%q, %s", src, names), Why: why},
		out, unix.SYS_OPEN_TREE, []uintptr{atFdcwd, b.str(src), flags})
}

// openTreeFd is openTree of the mount fd r holds (AT_EMPTY_PATH).
func (b *rawBuilder) openTreeFd(r raw.Reg, rec bool, out raw.Reg, st step.Step) int {
	flags := uintptr(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC | unix.AT_EMPTY_PATH)
	if rec {
		flags |= unix.AT_RECURSIVE
	}
	return b.op(st, out, unix.SYS_OPEN_TREE, []uintptr{0, b.str(""), flags}, r)
}

// isDir checks the handle in r is a directory: openat(r, ".") with
// O_DIRECTORY fails ENOTDIR on anything else. The index returned is
// that op (give it an Else); the handle it opens is closed after.
func (b *rawBuilder) isDir(r raw.Reg, name string) int {
	i := b.op(step.Step{Op: "openat", Args: fmt.Sprintf("%s, \".\", O_PATH|O_DIRECTORY", name),
		Why: "a directory? (ENOTDIR: no)"}, b.x, unix.SYS_OPENAT, []uintptr{0, b.str("."), unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC}, r)
	b.close(b.x, "<directory check>")
	return i
}

// statxRdev checks the node in r (a handle, AT_EMPTY_PATH) has device
// number rdev; else the child fails with errno e.
func (b *rawBuilder) statxRdev(r raw.Reg, rdev uint64, name string, e syscall.Errno) {
	b.op(step.Step{Op: "statx", Args: name + `, "", AT_EMPTY_PATH, STATX_TYPE`, Why: "the device number of what is there"},
		0, unix.SYS_STATX, []uintptr{0, b.str(""), unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW, unix.STATX_TYPE, addr(b.statx)}, r)
	b.rdevIs(rdev, name, e)
}

// rdevIs checks the statx(2) the child made last says device rdev; else
// the child fails with errno e.
func (b *rawBuilder) rdevIs(rdev uint64, name string, e syscall.Errno) {
	var st unix.Statx_t
	major, minor := uintptr(unix.Major(rdev)), uintptr(unix.Minor(rdev))
	b.p.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&b.statx[unsafe.Offsetof(st.Rdev_major)]), Args: [6]uintptr{1: major, 2: uintptr(e), 3: 4}},
		step.Step{Op: "check", Args: fmt.Sprintf("%s is device %d:%d", name, major, minor), Why: "nothing else may stand there"})
	b.p.AddQuiet(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&b.statx[unsafe.Offsetof(st.Rdev_minor)]), Args: [6]uintptr{1: minor, 2: uintptr(e), 3: 4}},
		step.Step{Op: "check", Args: fmt.Sprintf("%s is device %d:%d", name, major, minor), Why: "nothing else may stand there"})
}

// isProc checks the handle in r is on a procfs (fstatfs(2) f_type
// PROC_SUPER_MAGIC, procfs.Check); else the child fails EXDEV.
func (b *rawBuilder) isProc(r raw.Reg, name string) (statfs, check int) {
	statfs = b.op(step.Step{Op: "fstatfs", Args: name, Why: "what filesystem it is on"}, 0, sysFstatfs, fstatfsArgs(addr(b.statfs)), r)
	var st unix.Statfs_t
	check = b.p.Add(raw.Op{Trap: raw.Eq, Ptr: unsafe.Pointer(&b.statfs[unsafe.Offsetof(st.Type)]), Args: [6]uintptr{1: unix.PROC_SUPER_MAGIC, 2: uintptr(unix.EXDEV), 3: unsafe.Sizeof(st.Type)}},
		step.Step{Op: "check", Args: name + " f_type == PROC_SUPER_MAGIC", Why: "a write meant for the kernel must not land in another filesystem (CVE-2025-52881)"})
	return statfs, check
}

// procErrs gives the ops of isProc procfs.Check's error texts for the
// file named name (the f_type found is in the child's memory only).
func (b *rawBuilder) procErrs(statfs, check int, name string) {
	b.p.SetErr(statfs, func(e syscall.Errno) error { return errorf("fstatfs %s: %w", name, e) })
	b.p.SetErr(check, func(syscall.Errno) error {
		return errorf("%s is not on a procfs (want PROC_SUPER_MAGIC %#x): refusing to write through it", name, unix.PROC_SUPER_MAGIC)
	})
}
