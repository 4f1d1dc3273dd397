package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/namespaces"
	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/rootfs"
	"github.com/ctr-lite/ctr-lite/step"
)

// DryRun checks the bundle and flags as Create does and writes to w, in
// --explain's format, every kernel step Create would take, in order: the
// runtime's (the exec FIFO, the fork into the namespaces, the cgroup),
// then the init's (hooks, the root filesystem, the process, up to
// execve). It changes nothing: no state, FIFO, cgroup or process. A
// config or flag Create refuses gets the same error.
//
// What only the running container can tell is shown as the config says
// it: the init's pid ("<init pid>"), the program before the PATH lookup
// and the user before /etc/passwd is read in the new root.
func (r Root) DryRun(o CreateOpts, w io.Writer) error {
	spec, _, err := LoadBundle(o.Bundle)
	if err != nil {
		return err
	}
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return errorf("bundle %q: %w", o.Bundle, err)
	}
	o.Bundle = bundle
	p, err := NewPlan(spec, o)
	if err != nil {
		return err
	}
	r.warnIgnoredCaps(p)
	if err := r.check(false); err != nil {
		return err
	}
	if _, err := os.Lstat(r.dir(o.ID)); err == nil {
		return ErrExist
	} else if !errors.Is(err, fs.ErrNotExist) {
		return errorf("state directory: %w", err)
	}
	shown, err := r.planSteps(p)
	if err != nil {
		return err
	}
	rt, in := &step.Runner{Explain: w, Prefix: "create"}, &step.Runner{Explain: w, Prefix: "init"}
	for _, x := range shown {
		run := rt
		if x.init {
			run = in
		}
		if x.note != "" {
			run.Note("%s", x.note)
			continue
		}
		x.step.Do, x.step.ReadBack = nil, nil
		run.RunOne(x.step)
	}
	return nil
}

// plannedStep is one line of a dry run: a step of the runtime or of the
// init, or a note for a learner.
type plannedStep struct {
	init bool
	note string
	step step.Step
}

// planSteps are the steps of p, in the order Create runs them: the
// runtime's, then the init's.
func (r Root) planSteps(p *Plan) ([]plannedStep, error) {
	var out []plannedStep
	add := func(init bool, steps ...step.Step) {
		for _, s := range steps {
			out = append(out, plannedStep{init: init, step: s})
		}
	}
	note := func(init bool, format string, args ...any) {
		out = append(out, plannedStep{init: init, note: fmt.Sprintf(format, args...)})
	}
	add(false, mkfifoStep(filepath.Join(r.dir(p.ID), execFifo)))
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	nulls := [3]*os.File{null, null, null}
	planned := *p
	planned.dryRun = true                                  // the container's cgroups are not made
	prog, err := rawInitProg(&planned, false, true, nulls) // explain: which ops have a line
	var ng *raw.NeedsGo
	if err != nil && !errors.As(err, &ng) {
		return nil, err
	}
	if err == nil {
		return r.rawPlanSteps(p, prog, null, out)
	}
	note(false, "the Go init (ctr-lite re-executed) sets the container up: %s", ng.Why)
	note(false, "the init is this binary, run from a sealed read-only copy (CVE-2019-5736)")
	// The group is made and limited first; the init joins it itself,
	// as the forked child's first act (cgroups.Join).
	add(false, p.Cgroup.ApplySteps(-1)...)
	var j cgroups.Join
	add(false, p.Cgroup.OpenJoinStep(&j))
	note(false, "the child joins the cgroup itself, first: v1 \"0\" to each hierarchy's tasks file, cgroup2 clone3 CLONE_INTO_CGROUP")
	nsSteps, err := describeInitFork(p)
	if err != nil {
		return nil, err
	}
	add(false, nsSteps...)
	msg, err := json.Marshal(&initConfig{Plan: p})
	if err != nil {
		return nil, err
	}
	note(false, "the runtime sends the init its plan: %d bytes of JSON on the sync socket", len(msg))
	x := &initIO{}
	setup, err := initSteps(p, false, x)
	if err != nil {
		return nil, err
	}
	add(true, setup...)
	if p.hasCgroupMount() {
		// What cgroupViewStep reads; only its presence shapes the steps.
		x.cgroupView = &rootfs.CgroupView{}
	}
	rs, err := initRootfsSteps(p, x)
	if err != nil {
		return nil, err
	}
	add(true, rs...)
	proc, err := initProcessSteps(p, false, nil)
	if err != nil {
		return nil, err
	}
	add(true, proc...)
	return out, nil
}

// rawPlanSteps ends planSteps for a container the forked child sets up
// itself (rawInitProg): the cgroup, the fork, then the child's program.
func (r Root) rawPlanSteps(p *Plan, prog *raw.Prog, null *os.File, out []plannedStep) ([]plannedStep, error) {
	out = append(out, plannedStep{note: "no init process: the forked child sets the container up with the system calls below, then executes the program"})
	for _, s := range p.Cgroup.ApplySteps(-1) {
		out = append(out, plannedStep{step: s})
	}
	var j cgroups.Join
	out = append(out, plannedStep{step: p.Cgroup.OpenJoinStep(&j)},
		plannedStep{note: "the child joins the cgroup itself, first: v1 \"0\" to each hierarchy's tasks file, cgroup2 clone3 CLONE_INTO_CGROUP"})
	fifo := null
	ns, err := namespaces.Describe(rawNamespaces(p, [3]*os.File{null, null, null}, fifo, null, prog))
	if err != nil {
		return nil, err
	}
	for _, s := range ns {
		out = append(out, plannedStep{step: s})
	}
	// The ops --explain shows (those with a line), not the quiet ones
	// (an fd closed, a group's later calls).
	for i, s := range prog.Steps {
		if s.Op != "" && prog.Ops[i].SayLen != 0 {
			out = append(out, plannedStep{init: true, step: s})
		}
	}
	return out, nil
}

// describeInitFork is namespaces.Describe for the init's start: the fds
// it is given are stood in for by /dev/null.
func describeInitFork(p *Plan) ([]step.Step, error) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	extra := []*os.File{null} // the sync socket
	for i := 0; i < p.PreserveFds; i++ {
		extra = append(extra, null)
	}
	if p.FifoFd >= 0 {
		extra = append(extra, null)
	}
	if p.ConsoleFd >= 0 {
		extra = append(extra, null)
	}
	return namespaces.Describe(initNamespaces(p, nil, [3]*os.File{null, null, null}, extra))
}
