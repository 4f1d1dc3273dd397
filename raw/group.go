package raw

import (
	"syscall"

	"github.com/ctr-lite/ctr-lite/step"
)

// A Go step that is one system call becomes one op described by the step
// itself. A step of several calls becomes a Group: its first op carries
// the step (the one line --explain prints, as the Go init prints it), the
// others are added quietly with descriptions of their own, and a failure
// of any of them is reported as the step's error, with the text the Go
// step gives.

// Desc is st without its Go code: an op only borrows its words.
func Desc(st step.Step) step.Step {
	st.Do, st.ReadBack = nil, nil
	return st
}

// Group is one Go step made of several ops.
type Group struct {
	p     *Prog
	st    step.Step
	first bool
}

// NewGroup starts the ops of st.
func (p *Prog) NewGroup(st step.Step) *Group {
	return &Group{p: p, st: Desc(st), first: true}
}

// Add appends o, described by sub (what the op alone does). Its failure
// is errf(errno) as the group's step error; a nil errf gives the bare
// errno, as the Go step's own call would.
func (g *Group) Add(o Op, sub step.Step, errf func(syscall.Errno) error) int {
	var i int
	if g.first {
		i = g.p.Add(o, g.st)
		g.first = false
	} else {
		i = g.p.AddQuiet(o, sub)
	}
	st := g.st
	g.p.SetErr(i, func(e syscall.Errno) error {
		var err error = e
		if errf != nil {
			err = errf(e)
		}
		return &step.Error{Step: st, Err: err}
	})
	return i
}

// Sys is Add for the call trap(args...).
func (g *Group) Sys(sub step.Step, errf func(syscall.Errno) error, trap uintptr, args ...uintptr) int {
	o := Op{Trap: trap}
	copy(o.Args[:], args)
	return g.Add(o, sub, errf)
}

// End shows the step even when it needed no call (every fd to chown
// already the user's): a Goto to the next op.
func (g *Group) End() {
	if g.first {
		g.Add(Op{Trap: Goto, Jump: g.p.Here() + 1}, step.Step{}, nil)
	}
}

// AddQuiet appends o without an explain line (a detail of a step already
// explained).
func (p *Prog) AddQuiet(o Op, st step.Step) int {
	ex := p.Explain
	p.Explain = false
	i := p.Add(o, st)
	p.Explain = ex
	return i
}

// SetErr makes a failure of op i mean f(errno).
func (p *Prog) SetErr(i int, f func(syscall.Errno) error) {
	if p.Errs == nil {
		p.Errs = map[int]func(syscall.Errno) error{}
	}
	p.Errs[i] = f
}
