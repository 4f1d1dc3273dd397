package process

import (
	"fmt"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// ioprio_set(2) classes and the shift of the class in the value.
var ioprioClasses = sync.OnceValue(func() map[specs.IOPriorityClass]uintptr {
	return map[specs.IOPriorityClass]uintptr{
		specs.IOPRIO_CLASS_RT:   1,
		specs.IOPRIO_CLASS_BE:   2,
		specs.IOPRIO_CLASS_IDLE: 3,
	}
})

const ioprioClassShift = 13

// IOPriorityStep sets the I/O scheduling class and priority (config.md
// "ioPriority"): ioprio_set(IOPRIO_WHO_PROCESS, 0, ...). An unknown class
// or a priority outside 0..7 is an error.
func IOPriorityStep(p *specs.LinuxIOPriority) (step.Step, error) {
	class, ok := ioprioClasses()[p.Class]
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
