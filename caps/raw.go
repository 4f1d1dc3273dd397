package caps

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// BoundingRaw appends what BoundingSteps' step does, as one group
// described by it: for each capability of the kernel not in s.Bounding,
// prctl(PR_CAPBSET_READ) into a register and prctl(PR_CAPBSET_DROP) only
// if it is still in (so CAP_SETPCAP is not needed for one already out).
// A nil Set, or nothing to drop, appends nothing.
func (s *Set) BoundingRaw(p *raw.Prog) error {
	if s == nil {
		return nil
	}
	last, err := s.lastCap()
	if err != nil {
		return err
	}
	sts := s.BoundingSteps()
	if len(sts) == 0 {
		return nil
	}
	drop := UpTo(last) &^ s.Bounding
	in := p.Reg()
	g := p.NewGroup(sts[0])
	for _, c := range drop.Caps() {
		errf := func(e syscall.Errno) error { return errorf("%s: %w", Name(c), e) }
		g.Add(raw.Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAPBSET_READ, uintptr(c)}, Out: in},
			step.Step{Op: "prctl", Args: "PR_CAPBSET_READ, " + Name(c)}, errf)
		g.Add(raw.Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAPBSET_DROP, uintptr(c)}, If: in},
			step.Step{Op: "prctl", Args: "PR_CAPBSET_DROP, " + Name(c)}, errf)
	}
	return nil
}

// capHeader and capData are struct __user_cap_header_struct and
// __user_cap_data_struct (<linux/capability.h>); version 3 takes two
// data structs (capabilities 0-31, 32-63).
type capHeader struct {
	version uint32
	pid     int32
}

type capData struct{ effective, permitted, inheritable uint32 }

const linuxCapabilityVersion3 = 0x20080522

// capsetArgs are capset(2)'s arguments for the calling thread (pid 0).
func (s *Set) capsetArgs() (*capHeader, *[2]capData) {
	hdr := &capHeader{version: linuxCapabilityVersion3}
	data := &[2]capData{}
	for i := range data {
		data[i] = capData{
			effective:   uint32(s.Effective >> (32 * i)),
			permitted:   uint32(s.Permitted >> (32 * i)),
			inheritable: uint32(s.Inheritable >> (32 * i)),
		}
	}
	return hdr, data
}

// ApplyRaw appends what ApplySteps' steps do, one op each: capset(2) of
// the calling thread (header version 3, pid 0) with the three sets
// prebuilt, prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL) (EINVAL, a
// kernel before 4.3, is no error when no ambient capability is asked
// for), then PR_CAP_AMBIENT_RAISE of each ambient one. On EPERM the
// capset error names what is not in the runtime's permitted set, which
// is the child's unless a user namespace gave it a full one. A nil Set
// appends nothing.
func (s *Set) ApplyRaw(p *raw.Prog) error {
	if s == nil {
		return nil
	}
	if _, err := s.lastCap(); err != nil {
		return err
	}
	sts := s.ApplySteps()
	hdr, data := s.capsetArgs()
	p.Keep(hdr)
	p.Keep(data)
	set := *s
	i := p.Sys(raw.Desc(sts[0]), unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(data)))
	st0 := raw.Desc(sts[0])
	p.SetErr(i, func(e syscall.Errno) error { return &step.Error{Step: st0, Err: set.capsetErr(e)} })
	o := raw.Op{Trap: unix.SYS_PRCTL, Args: [6]uintptr{unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL}}
	if s.Ambient == 0 {
		o.Else = [2]syscall.Errno{unix.EINVAL}
	}
	clear := p.Add(o, raw.Desc(sts[1]))
	p.JumpHere(clear)
	for k, c := range s.Ambient.Caps() {
		p.Sys(raw.Desc(sts[2+k]), unix.SYS_PRCTL, unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c))
	}
	return nil
}
