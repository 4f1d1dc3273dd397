package caps

import (
	"errors"
	"fmt"
	"math/bits"
	"syscall"

	"github.com/moby/sys/capability"

	"github.com/ctr-lite/ctr-lite/step"
)

// The steps below act on the calling thread only (capabilities are
// per-thread credentials). Preconditions for the caller:
//
//   - the goroutine is locked to its OS thread (runtime.LockOSThread) from
//     BoundingSteps to the execve, and never unlocked: Go would otherwise
//     run it, or another goroutine, on a thread with other capabilities;
//   - the final execve (process.ExecStep) runs on that same thread: the
//     new program starts from the calling thread's credentials;
//   - between BoundingSteps and ApplySteps the process package changes
//     user with PR_SET_KEEPCAPS set, or setuid(2) from 0 clears permitted
//     and effective before ApplySteps can set them.

// BoundingSteps drops from the bounding set every capability of the
// kernel that is not in s.Bounding: prctl(PR_CAPBSET_DROP), one call per
// capability, shown as one step. It needs CAP_SETPCAP in the effective
// set, so it runs before the user change. A nil Set gives no steps.
func (s *Set) BoundingSteps() []step.Step {
	if s == nil {
		return nil
	}
	last, err := s.lastCap()
	if err != nil {
		return []step.Step{failStep("prctl", "PR_CAPBSET_DROP", err)}
	}
	full := UpTo(last)
	drop := full &^ s.Bounding
	if drop == 0 {
		return nil
	}
	return []step.Step{{
		Op:   "prctl",
		Args: "PR_CAPBSET_DROP, {" + drop.short(full) + "}",
		Why:  "one call each; execve can never grant these again; needs CAP_SETPCAP, so before the user change",
		Do: func() error {
			for _, c := range drop.Caps() {
				// Already out: skip, so no CAP_SETPCAP is needed for it.
				if in, err := capability.GetBound(c); err == nil && !in {
					continue
				}
				if err := capability.DropBound(c); err != nil {
					return errorf("%s: %w", Name(c), err)
				}
			}
			return nil
		},
		ReadBack: readBack(func(st Status) string { return "CapBnd " + st.Bounding.String() + " = " + st.Bounding.short(full) }),
	}}
}

// ApplySteps sets effective, permitted and inheritable in one capset(2),
// then clears the ambient set and raises each of s.Ambient
// (prctl PR_CAP_AMBIENT). It runs after the user change. A nil Set gives
// no steps.
func (s *Set) ApplySteps() []step.Step {
	if s == nil {
		return nil
	}
	last, err := s.lastCap()
	if err != nil {
		return []step.Step{failStep("capset", "", err)}
	}
	full := UpTo(last)
	set := *s
	steps := []step.Step{{
		Op: "capset",
		Args: fmt.Sprintf("effective=%s permitted=%s inheritable=%s",
			s.Effective.short(full), s.Permitted.short(full), s.Inheritable.short(full)),
		Why: "what the program starts with; inheritable empty unless asked (CVE-2022-29162)",
		Do:  set.capset,
		ReadBack: readBack(func(st Status) string {
			return fmt.Sprintf("CapEff %s CapPrm %s CapInh %s", st.Effective, st.Permitted, st.Inheritable)
		}),
	}, {
		Op:   "prctl",
		Args: "PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL",
		Why:  "start with no ambient capabilities; only those raised next survive execve",
		Do: func() error {
			err := capability.ResetAmbient()
			// Before Linux 4.3 there is no ambient set: nothing to clear.
			if errors.Is(err, syscall.EINVAL) && set.Ambient == 0 {
				return nil
			}
			return err
		},
	}}
	for _, c := range s.Ambient.Caps() {
		steps = append(steps, step.Step{
			Op:   "prctl",
			Args: "PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, " + Name(c),
			Why:  "kept across execve of a plain program, even by a non-root user",
			Do:   func() error { return capability.SetAmbient(true, c) },
			ReadBack: readBack(func(st Status) string {
				return "CapAmb " + st.Ambient.String() + " = " + st.Ambient.short(full)
			}),
		})
	}
	return steps
}

// capset(2) on the calling thread (header pid 0).
func (s Set) capset() error {
	c, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	c.Clear(capability.CAPS)
	c.Set(capability.EFFECTIVE, s.Effective.Caps()...)
	c.Set(capability.PERMITTED, s.Permitted.Caps()...)
	c.Set(capability.INHERITABLE, s.Inheritable.Caps()...)
	return s.capsetErr(c.Apply(capability.CAPS))
}

// capsetErr names the usual cause of EPERM: asking for more than the
// thread has.
func (s Set) capsetErr(err error) error {
	if errors.Is(err, syscall.EPERM) {
		if st, rerr := ReadStatus(0); rerr == nil && s.Permitted&^st.Permitted != 0 {
			return errorf("%w (%s not in this thread's permitted set, which can only shrink)",
				err, (s.Permitted &^ st.Permitted).describe())
		}
	}
	return err
}

func (s *Set) lastCap() (Cap, error) {
	if s.Last != 0 {
		return s.Last, nil
	}
	return LastCap()
}

// failStep reports, when run, that the steps could not be built.
func failStep(op, args string, err error) step.Step {
	return step.Step{Op: op, Args: args, Do: func() error { return err }}
}

// readBack shows the calling thread's sets after a step, for --explain.
func readBack(f func(Status) string) func() (string, error) {
	return func() (string, error) {
		st, err := ReadStatus(0)
		if err != nil {
			return "", err
		}
		return f(st), nil
	}
}

// short is describe, shortened against the kernel's full set: "all",
// "none", "all but CAP_SYS_MODULE" or the list.
func (m Mask) short(full Mask) string {
	m &= full
	switch {
	case m == 0:
		return "none"
	case m == full:
		return "all"
	}
	out := full &^ m
	if bits.OnesCount64(uint64(m)) > 8 && bits.OnesCount64(uint64(out)) < bits.OnesCount64(uint64(m)) {
		return "all but " + out.describe()
	}
	return m.describe()
}
