package container

import (
	"errors"
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Execution domains of personality(2) (<linux/personality.h>).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// personalityStep sets the execution domain (config-linux.md
// "Personality"): LINUX32 makes uname(2) report a 32-bit machine, for
// 32-bit userlands on 64-bit kernels. Like runc, only the domains, no
// flags.
func personalityStep(p *specs.LinuxPersonality) (step.Step, error) {
	var dom uintptr
	switch p.Domain {
	case specs.PerLinux:
		dom = perLinux
	case specs.PerLinux32:
		dom = perLinux32
	default:
		return step.Step{}, fmt.Errorf("linux.personality.domain %q: want LINUX or LINUX32", p.Domain)
	}
	if len(p.Flags) > 0 {
		return step.Step{}, fmt.Errorf("linux.personality.flags %v: not supported", p.Flags)
	}
	return step.Step{
		Op: "personality", Args: string(p.Domain),
		Why: "the execution domain the program sees (uname's machine)",
		Do: func() error {
			if _, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, dom, 0, 0); e != 0 {
				return e
			}
			return nil
		},
	}, nil
}

// ioprio_set(2) classes and the shift of the class in the value.
var ioprioClasses = map[specs.IOPriorityClass]uintptr{
	specs.IOPRIO_CLASS_RT:   1,
	specs.IOPRIO_CLASS_BE:   2,
	specs.IOPRIO_CLASS_IDLE: 3,
}

const ioprioClassShift = 13

// ioPriorityStep sets the I/O scheduling class and priority
// (config.md "ioPriority"): ioprio_set(IOPRIO_WHO_PROCESS, 0, ...).
func ioPriorityStep(p *specs.LinuxIOPriority) (step.Step, error) {
	class, ok := ioprioClasses[p.Class]
	if !ok {
		return step.Step{}, fmt.Errorf("process.ioPriority.class %q: want IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return step.Step{}, fmt.Errorf("process.ioPriority.priority %d: want 0 to 7", p.Priority)
	}
	val := class<<ioprioClassShift | uintptr(p.Priority)
	return step.Step{
		Op: "ioprio_set", Args: fmt.Sprintf("IOPRIO_WHO_PROCESS, 0, %s/%d", p.Class, p.Priority),
		Why: "the I/O scheduling class the program inherits; RT needs CAP_SYS_ADMIN, so before the user change",
		Do: func() error {
			const whoProcess = 1
			if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, whoProcess, 0, val); e != 0 {
				return e
			}
			return nil
		},
	}, nil
}

// procAttrSteps are personality and ioPriority, run as root before the
// user change.
func procAttrSteps(spec *specs.Spec) ([]step.Step, error) {
	var s []step.Step
	if p := spec.Linux.Personality; p != nil {
		st, err := personalityStep(p)
		if err != nil {
			return nil, err
		}
		s = append(s, st)
	}
	if p := spec.Process.IOPriority; p != nil {
		st, err := ioPriorityStep(p)
		if err != nil {
			return nil, err
		}
		s = append(s, st)
	}
	return s, nil
}

// checkUnsupported refuses config.json fields this runtime does not
// implement yet, rather than run the container without them.
func checkUnsupported(spec *specs.Spec) error {
	var bad []string
	l, p := spec.Linux, spec.Process
	if len(l.TimeOffsets) > 0 {
		bad = append(bad, "linux.timeOffsets")
	}
	if len(l.NetDevices) > 0 {
		bad = append(bad, "linux.netDevices")
	}
	if l.MemoryPolicy != nil {
		bad = append(bad, "linux.memoryPolicy")
	}
	if p.Scheduler != nil {
		bad = append(bad, "process.scheduler")
	}
	if p.ExecCPUAffinity != nil {
		bad = append(bad, "process.execCPUAffinity")
	}
	for _, m := range spec.Mounts {
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			bad = append(bad, "mounts["+m.Destination+"].uidMappings (idmapped mounts)")
			break
		}
	}
	if len(bad) > 0 {
		return errors.New(strings.Join(bad, ", ") + ": not supported by this runtime")
	}
	if _, err := procAttrSteps(spec); err != nil {
		return err
	}
	return nil
}
