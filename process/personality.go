package process

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Execution domains of personality(2) (<linux/personality.h>).
const (
	perLinux   = 0x0000
	perLinux32 = 0x0008
)

// PersonalityStep sets the execution domain (config-linux.md
// "Personality"): LINUX32 makes uname(2) report a 32-bit machine, for
// 32-bit userlands on 64-bit kernels. Like runc, only the domains, no
// flags: any other domain, or flags, is an error.
func PersonalityStep(p *specs.LinuxPersonality) (step.Step, error) {
	st, _, err := personalityStep(p)
	return st, err
}

// personalityStep is PersonalityStep and the domain it sets.
func personalityStep(p *specs.LinuxPersonality) (step.Step, uintptr, error) {
	var dom uintptr
	switch p.Domain {
	case specs.PerLinux:
		dom = perLinux
	case specs.PerLinux32:
		dom = perLinux32
	default:
		return step.Step{}, 0, errorf("linux.personality.domain %q: want LINUX or LINUX32", p.Domain)
	}
	if len(p.Flags) > 0 {
		return step.Step{}, 0, errorf("linux.personality.flags %v: not supported", p.Flags)
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
	}, dom, nil
}

// AttrSteps are personality (config-linux.md "Personality") and the I/O
// priority (config.md "ioPriority"), either may be nil, in runc's order.
// They run as root before the user change (Config.BeforeUser): the RT
// I/O class needs CAP_SYS_ADMIN.
func AttrSteps(pers *specs.LinuxPersonality, io *specs.LinuxIOPriority) ([]step.Step, error) {
	var s []step.Step
	if pers != nil {
		st, err := PersonalityStep(pers)
		if err != nil {
			return nil, err
		}
		s = append(s, st)
	}
	if io != nil {
		st, err := IOPriorityStep(io)
		if err != nil {
			return nil, err
		}
		s = append(s, st)
	}
	return s, nil
}
