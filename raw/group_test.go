package raw

import (
	"errors"
	"syscall"
	"testing"

	"github.com/ctr-lite/ctr-lite/step"
)

// A Group explains its step once, on its first op, and reports a failure
// of any of its ops as the step's error.
func TestGroupExplainsOnceAndFailsAsItsStep(t *testing.T) {
	p := &Prog{Explain: true}
	st := step.Step{Op: "close_range", Args: "3..~0", Why: "w", Do: func() error { return nil }}
	g := p.NewGroup(st)
	g.Sys(step.Step{Op: "close_range", Args: "3..4"}, nil, 1)
	g.Sys(step.Step{Op: "fcntl", Args: "5"}, func(e syscall.Errno) error { return errors.New("keep fd 5: " + e.Error()) }, 2)
	g.End() // ops were added: no Goto
	if len(p.Ops) != 2 || p.Ops[0].SayLen == 0 || p.Ops[1].SayLen != 0 {
		t.Fatalf("ops %+v", p.Ops)
	}
	if p.Steps[0].Do != nil || p.Steps[0].String() != st.String() || p.Steps[1].Op != "fcntl" {
		t.Errorf("steps %v", p.Steps)
	}
	if got := p.Error(0, syscall.EINVAL).Error(); got != "close_range 3..~0: invalid argument" {
		t.Errorf("first op: %s", got)
	}
	if got := p.Error(1, syscall.EBADF).Error(); got != "close_range 3..~0: keep fd 5: bad file descriptor" {
		t.Errorf("second op: %s", got)
	}
	if !p.Explain {
		t.Error("AddQuiet left Explain off")
	}
	// A step that needed no call is still shown: a Goto to the next op.
	p.NewGroup(step.Step{Op: "fchown"}).End()
	if o := p.Ops[2]; o.Trap != Goto || o.Jump != 3 || o.SayLen == 0 {
		t.Errorf("empty group: %+v", o)
	}
}
