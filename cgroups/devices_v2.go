package cgroups

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/ctr-lite/ctr-lite/procfs"
	"golang.org/x/sys/unix"
)

// bpfInsn is one eBPF instruction (struct bpf_insn, include/uapi/linux/bpf.h).
type bpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// eBPF opcodes the device filter uses (include/uapi/linux/bpf.h, bpf_common.h).
const (
	opLdxMemW  = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W   // dst = *(u32 *)(src + off)
	opAndK32   = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K   // dst &= imm (32 bit)
	opRshK32   = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K   // dst >>= imm (32 bit)
	opMovX32   = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X   // dst = src (32 bit)
	opMovK32   = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K   // dst = imm (32 bit)
	opMovK64   = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K // dst = imm
	opJneK     = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K   // if dst != imm goto pc+off
	opJneX     = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X   // if dst != src goto pc+off
	opExit     = unix.BPF_JMP | unix.BPF_EXIT               // return r0
	bpfInsnLen = 8
)

// bpfLicense is the program's license string (the kernel's
// MODULE_LICENSE form); runc's filter is "Apache".
const bpfLicense = "Apache"

// marshalBPF encodes insns as the kernel reads them: code, the register
// byte (dst in the low nibble on a little-endian machine, the high one
// on a big-endian machine, as the C bitfield lays it out), off, imm.
func marshalBPF(insns []bpfInsn, bo binary.AppendByteOrder) []byte {
	b := make([]byte, 0, len(insns)*bpfInsnLen)
	for _, in := range insns {
		regs := in.src<<4 | in.dst
		if bo == binary.BigEndian {
			regs = in.dst<<4 | in.src
		}
		b = append(b, in.code, regs)
		b = bo.AppendUint16(b, uint16(in.off))
		b = bo.AppendUint32(b, uint32(in.imm))
	}
	return b
}

// nativeOrder is this machine's byte order, as BPF_PROG_LOAD wants it.
var nativeOrder binary.AppendByteOrder = func() binary.AppendByteOrder {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return binary.LittleEndian
	}
	return binary.BigEndian
}()

// deviceFilter compiles rules into a BPF_PROG_TYPE_CGROUP_DEVICE program
// that answers as runc's filter does. The rules are first reduced as the
// v1 controller would hold them (devListFromRules: same refusals, the
// default decided by the last "a" rule, exceptions merged); the program
// then checks each exception in runc's order (major, minor, type) and
// returns the default when none matches.
//
// The context is struct bpf_cgroup_dev_ctx: u32 access_type (device type
// in the low 16 bits, BPF_DEVCG_ACC_* in the high ones), u32 major, u32
// minor. The program keeps type in r2, access in r3, major in r4, minor
// in r5; r0 = 1 allows, 0 denies (-EPERM to the caller).
func deviceFilter(rules []DeviceRule) ([]bpfInsn, error) {
	l, err := devListFromRules(rules)
	if err != nil {
		return nil, err
	}
	p := []bpfInsn{
		{code: opLdxMemW, dst: 2, src: 1, off: 0},
		{code: opAndK32, dst: 2, imm: 0xffff},
		{code: opLdxMemW, dst: 3, src: 1, off: 0},
		{code: opRshK32, dst: 3, imm: 16},
		{code: opLdxMemW, dst: 4, src: 1, off: 4},
		{code: opLdxMemW, dst: 5, src: 1, off: 8},
	}
	// Rules from an empty allow-list: an "a" first when the default is
	// allow (no block: the default return covers it), then exceptions,
	// each the opposite of the default.
	for _, r := range (&devList{}).transition(l) {
		if r.Type == 'a' {
			continue
		}
		block, err := deviceBlock(r)
		if err != nil {
			return nil, err
		}
		p = append(p, block...)
	}
	return append(p, bpfInsn{code: opMovK32, dst: 0, imm: boolImm(l.defaultAllow)}, bpfInsn{code: opExit}), nil
}

// deviceBlock is one exception: each check that fails jumps to the
// next block; if all pass, it returns r.Allow.
func deviceBlock(r DeviceRule) ([]bpfInsn, error) {
	var typ int32
	switch r.Type {
	case 'c':
		typ = unix.BPF_DEVCG_DEV_CHAR
	case 'b':
		typ = unix.BPF_DEVCG_DEV_BLOCK
	default:
		return nil, errorf("invalid type %q", r.Type)
	}
	if r.Major > math.MaxUint32 {
		return nil, errorf("invalid major %d", r.Major)
	}
	if r.Minor > math.MaxUint32 {
		return nil, errorf("invalid minor %d", r.Minor)
	}
	var acc int32
	a := parseAccess(r.Access)
	for _, m := range []struct {
		a   devAccess
		bpf int32
	}{{accRead, unix.BPF_DEVCG_ACC_READ}, {accWrite, unix.BPF_DEVCG_ACC_WRITE}, {accMknod, unix.BPF_DEVCG_ACC_MKNOD}} {
		if a&m.a != 0 {
			acc |= m.bpf
		}
	}
	b := []bpfInsn{{code: opJneK, dst: 2, imm: typ}}
	if a != accAll {
		// Every access asked must be in the rule: (r3 & acc) == r3.
		b = append(b,
			bpfInsn{code: opMovX32, dst: 1, src: 3},
			bpfInsn{code: opAndK32, dst: 1, imm: acc},
			bpfInsn{code: opJneX, dst: 1, src: 3})
	}
	if r.Major != devWildcard {
		b = append(b, bpfInsn{code: opJneK, dst: 4, imm: int32(r.Major)})
	}
	if r.Minor != devWildcard {
		b = append(b, bpfInsn{code: opJneK, dst: 5, imm: int32(r.Minor)})
	}
	b = append(b, bpfInsn{code: opMovK32, dst: 0, imm: boolImm(r.Allow)}, bpfInsn{code: opExit})
	// The jumps go to the first instruction after the block.
	for i := range b {
		if b[i].code == opJneK || b[i].code == opJneX {
			b[i].off = int16(len(b) - i - 1)
		}
	}
	return b, nil
}

func boolImm(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// setDevicesV2 makes rules the device filter of the cgroup2 directory
// dir: it compiles them (deviceFilter; its refusals are returned before
// the kernel is asked anything), loads the program with bpf(BPF_PROG_LOAD)
// and attaches it with BPF_PROG_ATTACH and BPF_F_ALLOW_MULTI
// (Documentation/admin-guide/cgroup-v2.rst "Device controller"). A
// program attached before is replaced in the same call (BPF_F_REPLACE,
// Linux 5.6) when it is the only one, so there is no moment with no
// filter or with two; otherwise the old ones are detached after the new
// one is attached, as runc does.
//
// When bpf(2) fails, the error is ignored, as runc ignores it, inside a
// user namespace, and when every rule allows "rwm" (a filter that could
// only add access). The caller skips the controller when the config
// gives no rules (an empty list here denies every device).
func setDevicesV2(dir string, rules []DeviceRule) error {
	insns, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	fd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := attachDeviceFilter(fd, insns); err != nil && !canIgnoreBPFError(rules) {
		return err
	}
	return nil
}

func canIgnoreBPFError(rules []DeviceRule) bool {
	if procfs.InUserNS() {
		return true
	}
	for _, r := range rules {
		if !r.Allow || parseAccess(r.Access) != accAll {
			return false
		}
	}
	return true
}

// attachDeviceFilter loads insns and attaches them to the cgroup dirFd in
// place of the device programs attached there now.
func attachDeviceFilter(dirFd int, insns []bpfInsn) error {
	// Kernels before 5.11 charge BPF programs to RLIMIT_MEMLOCK; runc
	// lifts it for its own process (the container does not inherit it).
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY})

	old, err := attachedDeviceFilters(dirFd)
	if err != nil {
		return err
	}
	defer func() {
		for _, fd := range old {
			unix.Close(fd)
		}
	}()
	replace := len(old) == 1 && haveBPFReplace()

	prog, err := bpfProgLoad(insns, bpfLicense)
	if err != nil {
		return errorf("failed to call BPF_PROG_LOAD: %w", err)
	}
	// Once attached, the cgroup holds the program; our fd is not needed.
	defer unix.Close(prog)

	flags, replaceFd := uint32(unix.BPF_F_ALLOW_MULTI), 0
	if replace {
		flags |= unix.BPF_F_REPLACE
		replaceFd = old[0]
	}
	if err := bpfProgAttach(dirFd, prog, flags, replaceFd); err != nil {
		return errorf("failed to call BPF_PROG_ATTACH: %w", err)
	}
	if replace {
		return nil
	}
	for _, fd := range old {
		if err := bpfProgDetach(dirFd, fd); err != nil {
			return errorf("failed to call BPF_PROG_DETACH (BPF_CGROUP_DEVICE) on old filter program: %w", err)
		}
	}
	return nil
}

// bpfMaxRetries bounds the BPF_PROG_LOAD retries after the verifier was
// interrupted by a signal (EAGAIN, Linux 4.20+).
const bpfMaxRetries = 30

// bpfSys calls bpf(2) with attr (a struct bpf_attr prefix; the kernel
// zero-fills the rest). SIGPROF is blocked during a load, as cilium/ebpf
// and runc do, so a profiler does not keep interrupting the verifier.
func bpfSys(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	if cmd == unix.BPF_PROG_LOAD {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, old unix.Sigset_t
		const bit, wordBits = int(unix.SIGPROF - 1), int(unsafe.Sizeof(set.Val[0]) * 8)
		set.Val[bit/wordBits] |= 1 << (bit % wordBits)
		if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err == nil {
			defer unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil)
		}
	}
	for try := 0; ; try++ {
		r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
		if errno == 0 {
			return int(r), nil
		}
		if errno == unix.EAGAIN && cmd == unix.BPF_PROG_LOAD {
			if try < bpfMaxRetries {
				continue
			}
			return -1, errorf("bpf: prog load keeps being interrupted by EAGAIN after %d retries: %w", bpfMaxRetries, errno)
		}
		return -1, os.NewSyscallError("bpf", errno)
	}
}

// bpfFd is bpfSys for commands that return a new fd. The kernel takes fd
// 0 in bpf_attr for "none", so a 0 (stdin was closed) is moved up.
func bpfFd(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, err := bpfSys(cmd, attr, size)
	if err != nil || fd != 0 {
		return fd, err
	}
	nfd, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 1)
	unix.Close(0)
	if err != nil {
		return -1, os.NewSyscallError("fcntl", err)
	}
	return nfd, nil
}

// bpfProgLoad loads a BPF_PROG_TYPE_CGROUP_DEVICE program. A refused
// program is loaded again with the verifier log on, and the error
// carries the log.
func bpfProgLoad(insns []bpfInsn, license string) (int, error) {
	code := marshalBPF(insns, nativeOrder)
	lic := append([]byte(license), 0)
	// struct bpf_attr for BPF_PROG_LOAD, up to log_buf.
	attr := struct {
		progType, insnCnt uint32
		insns, license    uint64
		logLevel, logSize uint32
		logBuf            uint64
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&lic[0]))),
	}
	// attr holds the addresses as integers, invisible to the GC; the
	// pinner keeps the buffers in place and alive.
	var pin runtime.Pinner
	defer pin.Unpin()
	pin.Pin(&code[0])
	pin.Pin(&lic[0])
	fd, err := bpfFd(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil {
		return fd, nil
	}
	// The kernel returns ENOSPC when the log does not fit; grow it up to
	// the largest size every kernel takes (UINT_MAX >> 8 before 5.2).
	const minLog, maxLog = 64 << 10, 16<<20 - 1
	attr.logLevel = 1
	for size := minLog; ; size = min(size*8, maxLog) {
		log := make([]byte, size)
		pin.Pin(&log[0])
		attr.logSize, attr.logBuf = uint32(size), uint64(uintptr(unsafe.Pointer(&log[0])))
		fd, err := bpfFd(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if err == nil {
			return fd, nil
		}
		if errors.Is(err, unix.ENOSPC) && size < maxLog {
			continue
		}
		if n := bytes.IndexByte(log, 0); n > 0 {
			return -1, errorf("%w: %s", err, bytes.TrimRight(log[:n], "\n"))
		}
		return -1, err
	}
}

// bpfProgAttach attaches prog to the cgroup as BPF_CGROUP_DEVICE; with
// BPF_F_REPLACE, in place of the program replaceFd.
func bpfProgAttach(cgroupFd, prog int, flags uint32, replaceFd int) error {
	attr := struct{ target, prog, attachType, flags, replace uint32 }{
		uint32(cgroupFd), uint32(prog), unix.BPF_CGROUP_DEVICE, flags, uint32(replaceFd),
	}
	_, err := bpfSys(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// bpfProgDetach detaches prog (BPF_CGROUP_DEVICE) from the cgroup.
func bpfProgDetach(cgroupFd, prog int) error {
	attr := struct{ target, prog, attachType uint32 }{uint32(cgroupFd), uint32(prog), unix.BPF_CGROUP_DEVICE}
	_, err := bpfSys(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

// attachedDeviceFilters gives an fd for each BPF_CGROUP_DEVICE program
// attached to the cgroup (BPF_PROG_QUERY, BPF_PROG_GET_FD_BY_ID). A
// program we may not open (EPERM/EACCES, an LSM label: one systemd
// attached, say) is left alone, as runc does: a further device program
// can only take access away.
func attachedDeviceFilters(dirFd int) (fds []int, err error) {
	// struct bpf_attr for BPF_PROG_QUERY, through the revision field:
	// kernels 6.17 up to 7.2 write it whatever size is passed.
	type query struct {
		target, attachType, queryFlags, attachFlags uint32
		progIDs                                     uint64
		progCnt                                     uint32
		_                                           uint32
		progAttachFlags, linkIDs, linkAttachFlags   uint64
		revision                                    uint64
	}
	defer func() {
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			fds = nil
		}
	}()
	n := 64 // the most programs a cgroup takes per attach type
	for range 10 {
		ids := make([]uint32, n)
		var pin runtime.Pinner
		pin.Pin(&ids[0])
		q := query{target: uint32(dirFd), attachType: unix.BPF_CGROUP_DEVICE, progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(n)}
		_, err := bpfSys(unix.BPF_PROG_QUERY, unsafe.Pointer(&q), unsafe.Sizeof(q))
		pin.Unpin()
		if errors.Is(err, unix.ENOSPC) {
			// More programs than ids: progCnt now says how many.
			n = max(int(q.progCnt), 1)
			continue
		}
		if err != nil {
			return nil, errorf("bpf_prog_query(BPF_CGROUP_DEVICE) failed: %w", err)
		}
		for _, id := range ids[:q.progCnt] {
			attr := struct{ id uint32 }{id}
			fd, err := bpfFd(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
			if errors.Is(err, os.ErrPermission) {
				continue
			}
			if err != nil {
				return fds, errorf("cannot fetch program from id: %w", err)
			}
			fds = append(fds, fd)
		}
		return fds, nil
	}
	return nil, errors.New("could not get complete list of CGROUP_DEVICE programs")
}

var haveBPFReplace = sync.OnceValue(func() bool {
	// Probe as runc does: attach a trivial program with BPF_F_REPLACE to
	// a file that is no cgroup. A kernel without the flag rejects the
	// flags (EINVAL) before it looks at the target (EBADF).
	prog, err := bpfProgLoad([]bpfInsn{{code: opMovK64, dst: 0}, {code: opExit}}, "MIT")
	if err != nil {
		return false
	}
	defer unix.Close(prog)
	null, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(null)
	err = bpfProgAttach(null, prog, unix.BPF_F_ALLOW_MULTI|unix.BPF_F_REPLACE, prog)
	return !errors.Is(err, unix.EINVAL)
})
