package caps

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/raw"
	"github.com/ctr-lite/ctr-lite/step"
)

// The raw ops do what the Go steps do, described and failing as they
// do: one explained line per Go step.
func TestRawOpsAsSteps(t *testing.T) {
	s := &Set{Bounding: UpTo(40) &^ MaskOf(capability.CAP_SYS_MODULE, capability.CAP_SYS_ADMIN), Effective: MaskOf(chown, kill), Permitted: MaskOf(chown, kill, nbs),
		Inheritable: MaskOf(nbs), Ambient: MaskOf(nbs), Last: 40}
	p := &raw.Prog{Explain: true}
	if err := s.BoundingRaw(p); err != nil {
		t.Fatal(err)
	}
	nb := len(p.Ops)
	if err := s.ApplyRaw(p); err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for i, o := range p.Ops {
		if o.SayLen != 0 {
			got = append(got, p.Steps[i].String())
		}
	}
	for _, st := range append(s.BoundingSteps(), s.ApplySteps()...) {
		want = append(want, st.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("explained:\n%s\nGo steps:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Bounding: read, then drop if in, for CAP_SYS_MODULE (16) and
	// CAP_SYS_ADMIN (21).
	var ops []string
	for _, o := range p.Ops[:nb] {
		ops = append(ops, fmt.Sprintf("%d %d if=%v out=%v", o.Args[0], o.Args[1], o.If != 0, o.Out != 0))
	}
	wantOps := []string{
		fmt.Sprintf("%d 16 if=false out=true", unix.PR_CAPBSET_READ), fmt.Sprintf("%d 16 if=true out=false", unix.PR_CAPBSET_DROP),
		fmt.Sprintf("%d 21 if=false out=true", unix.PR_CAPBSET_READ), fmt.Sprintf("%d 21 if=true out=false", unix.PR_CAPBSET_DROP),
	}
	if strings.Join(ops, "\n") != strings.Join(wantOps, "\n") || p.Ops[0].Out != p.Ops[1].If {
		t.Errorf("bounding ops:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(wantOps, "\n"))
	}
	b := s.BoundingSteps()[0]
	if got, want := p.Error(3, syscall.EPERM).Error(), (&step.Error{Step: b, Err: fmt.Errorf("CAP_SYS_ADMIN: %w", syscall.EPERM)}).Error(); got != want {
		t.Errorf("drop error %q, want %q", got, want)
	}
	// Apply: capset with version 3, pid 0 and the sets; ambient clear
	// (EINVAL is an error: an ambient capability is asked for), raise.
	capset := p.Ops[nb]
	if capset.Trap != unix.SYS_CAPSET {
		t.Fatalf("op %d is %d, not capset", nb, capset.Trap)
	}
	hdr, data := s.capsetArgs()
	if capset.Args[0] == 0 || capset.Args[1] == 0 {
		t.Errorf("capset args %v", capset.Args)
	}
	if hdr.version != 0x20080522 || hdr.pid != 0 || data[0] != (capData{uint32(MaskOf(chown, kill)), uint32(MaskOf(chown, kill, nbs)), uint32(MaskOf(nbs))}) || data[1] != (capData{}) {
		t.Errorf("capset header %+v data %+v", *hdr, *data)
	}
	if _, d := (&Set{Permitted: MaskOf(chown, 40)}).capsetArgs(); d[0].permitted != 1 || d[1].permitted != 1<<8 {
		t.Errorf("capabilities 0 and 40 in %+v", *d)
	}
	clear, raise := p.Ops[nb+1], p.Ops[nb+2]
	if clear.Args[0] != unix.PR_CAP_AMBIENT || clear.Args[1] != unix.PR_CAP_AMBIENT_CLEAR_ALL || clear.Else != [2]syscall.Errno{} {
		t.Errorf("ambient clear %+v", clear)
	}
	if raise.Args[1] != unix.PR_CAP_AMBIENT_RAISE || raise.Args[2] != uintptr(nbs) {
		t.Errorf("ambient raise %+v", raise)
	}
	// Without ambient capabilities a kernel without the set is fine.
	p = &raw.Prog{}
	noAmb := &Set{Bounding: UpTo(40), Last: 40}
	if err := noAmb.ApplyRaw(p); err != nil {
		t.Fatal(err)
	}
	if len(p.Ops) != 2 || p.Ops[1].Else[0] != syscall.EINVAL || p.Ops[1].Jump != 2 {
		t.Errorf("no ambient: %+v", p.Ops)
	}
	if err := noAmb.BoundingRaw(p); err != nil || len(p.Ops) != 2 {
		t.Errorf("full bounding set gives ops: %v", err)
	}
	var nilSet *Set
	if nilSet.BoundingRaw(p) != nil || nilSet.ApplyRaw(p) != nil || len(p.Ops) != 2 {
		t.Error("a nil Set adds ops")
	}
}
