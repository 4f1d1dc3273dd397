package rootfs

import (
	"fmt"
	"strings"

	"github.com/ctr-lite/ctr-lite/raw"
)

// dumpProg renders p's ops one a line: index, the step, and the control
// flow (registers in and out, Else and Goto targets).
func dumpProg(p *raw.Prog) string {
	var b strings.Builder
	for i, o := range p.Ops {
		st := p.Steps[i]
		var flow []string
		for j, r := range o.In {
			if r != 0 {
				flow = append(flow, fmt.Sprintf("a%d=r%d", j, r))
			}
		}
		if o.Out != 0 {
			flow = append(flow, fmt.Sprintf("->r%d", o.Out))
		}
		if o.Else[0] != 0 {
			flow = append(flow, fmt.Sprintf("else %v->%d", o.Else, o.Jump))
		}
		if o.Trap == raw.Goto {
			flow = append(flow, fmt.Sprintf("goto %d", o.Jump))
		}
		fmt.Fprintf(&b, "%3d %s(%s) [%s]\n", i, st.Op, st.Args, strings.Join(flow, " "))
	}
	return b.String()
}
