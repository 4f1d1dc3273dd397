package process

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// ioprioClass is the ioprio_set(2) class number of the spec's class.
func ioprioClass(c specs.IOPriorityClass) (uintptr, bool) {
	switch c {
	case specs.IOPRIO_CLASS_RT:
		return 1, true
	case specs.IOPRIO_CLASS_BE:
		return 2, true
	case specs.IOPRIO_CLASS_IDLE:
		return 3, true
	}
	return 0, false
}

const ioprioClassShift = 13

// IOPriorityStep sets the I/O scheduling class and priority (config.md
// "ioPriority"): ioprio_set(IOPRIO_WHO_PROCESS, 0, ...). An unknown class
// or a priority outside 0..7 is an error.
func IOPriorityStep(p *specs.LinuxIOPriority) (step.Step, error) {
	st, _, err := ioPriorityStep(p)
	return st, err
}

// ioprioWhoProcess is IOPRIO_WHO_PROCESS (<linux/ioprio.h>).
const ioprioWhoProcess = 1

// ioPriorityStep is IOPriorityStep and the value it sets.
func ioPriorityStep(p *specs.LinuxIOPriority) (step.Step, uintptr, error) {
	class, ok := ioprioClass(p.Class)
	if !ok {
		return step.Step{}, 0, errorf("process.ioPriority.class %q: want IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE", p.Class)
	}
	if p.Priority < 0 || p.Priority > 7 {
		return step.Step{}, 0, errorf("process.ioPriority.priority %d: want 0 to 7", p.Priority)
	}
	val := class<<ioprioClassShift | uintptr(p.Priority)
	return step.Step{
		Op: "ioprio_set", Args: fmt.Sprintf("IOPRIO_WHO_PROCESS, 0, %s/%d", p.Class, p.Priority),
		Why: "the I/O scheduling class the program inherits; RT needs CAP_SYS_ADMIN, so before the user change",
		Do: func() error {
			if _, _, e := unix.RawSyscall(unix.SYS_IOPRIO_SET, ioprioWhoProcess, 0, val); e != 0 {
				return e
			}
			return nil
		},
	}, val, nil
}
