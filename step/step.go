// Package step is the unit every other package builds on: one kernel
// operation (a syscall, or a file written under /proc or /sys) as a value
// that can first be described and then executed.
//
// A package turns its configuration into an ordered []Step; a Runner
// executes them in order and, when asked to explain, prints each one as it
// happens so a learner can watch a container being built.
package step

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Step is one kernel operation.
type Step struct {
	// Op names the syscall or the file, as the kernel knows it:
	// "mount", "pivot_root", "setns", "write /sys/fs/cgroup/pids/x/pids.max".
	Op string
	// Args are the arguments that matter, already formatted.
	Args string
	// Why is one short reason, for --explain.
	Why string
	// Do executes the step. A nil Do describes something the kernel does
	// by itself (or a child does after fork) and is only printed.
	Do func() error
	// ReadBack, if set, returns what the kernel holds after Do (for
	// example the value read back from a cgroup file); --explain prints it.
	ReadBack func() (string, error)
}

// String describes the step: "op(args)  # why".
func (s Step) String() string {
	var b strings.Builder
	b.WriteString(s.Op)
	if s.Args != "" {
		b.WriteString("(")
		b.WriteString(s.Args)
		b.WriteString(")")
	}
	if s.Why != "" {
		b.WriteString("  # ")
		b.WriteString(s.Why)
	}
	return b.String()
}

// Runner executes steps in order.
type Runner struct {
	// Explain, when non-nil, receives one line per step before it runs
	// (and the read-back value after it ran).
	Explain io.Writer
	// Prefix tags each explained line, e.g. "ns" or "cgroup".
	Prefix string
}

// Run executes steps in order and stops at the first error, which names
// the step that failed.
func (r *Runner) Run(steps ...Step) error {
	for _, s := range steps {
		if err := r.RunOne(s); err != nil {
			return err
		}
	}
	return nil
}

// RunOne executes a single step.
func (r *Runner) RunOne(s Step) error {
	r.describe(s)
	if s.Do != nil {
		if err := s.Do(); err != nil {
			return &Error{Step: s, Err: err}
		}
	}
	if s.ReadBack != nil && r != nil && r.Explain != nil {
		v, err := s.ReadBack()
		if err != nil {
			v = "read back failed: " + err.Error()
		}
		r.printf("    -> %s\n", v)
	}
	return nil
}

// Note prints a line that is not a kernel step (context for a learner).
func (r *Runner) Note(format string, args ...any) {
	if r == nil || r.Explain == nil {
		return
	}
	r.printf("# "+format+"\n", args...)
}

func (r *Runner) describe(s Step) {
	if r == nil || r.Explain == nil {
		return
	}
	r.printf("%s\n", s)
}

func (r *Runner) printf(format string, args ...any) {
	p := "explain: "
	if r.Prefix != "" {
		p = "explain[" + r.Prefix + "]: "
	}
	fmt.Fprintf(r.Explain, p+format, args...)
}

// Error is a step that failed: "op args: err", or only err when it
// names the call and the file itself (an *fs.PathError of the step's op
// in its chain, as "mkdir /sys/fs/cgroup/memory/x: permission denied"
// from a step that makes a directory in each of ten hierarchies): one
// short line naming the object that failed, not every one the step
// would touch.
type Error struct {
	Step Step
	Err  error
}

func (e *Error) Error() string {
	var pe *fs.PathError
	if errors.As(e.Err, &pe) && pe.Op == e.Step.Op {
		return e.Err.Error()
	}
	if e.Step.Args == "" {
		return e.Step.Op + ": " + e.Err.Error()
	}
	return e.Step.Op + " " + e.Step.Args + ": " + e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }
