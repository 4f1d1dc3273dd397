package namespaces

import (
	"fmt"

	"github.com/ctr-lite/ctr-lite/step"
)

// Describe returns the steps Start would take for c, in order, without
// forking: the clone, the child's steps up to "ready", the ID maps the
// parent writes, then the child's steps after the go-ahead, ending with
// execve. It opens what Start opens (the namespace files to join, the
// pipes) and closes it again, so a config Start would refuse is refused
// here with the same error. The steps are for printing only: their Do is
// nil. With c.Prog the list ends before the program's own steps
// (c.Prog.Steps), which the caller shows as it likes.
func Describe(c *Config) ([]step.Step, error) {
	pl, err := c.validate()
	if err != nil {
		return nil, err
	}
	s := &starter{c: c, pl: pl}
	defer s.closeAll()
	if err := s.prepare(); err != nil {
		return nil, err
	}
	clone, _ := s.cloneStep()
	out := []step.Step{clone}
	for _, cs := range s.phase1 {
		out = append(out, cs.step)
	}
	if pl.isNew(User) {
		// As writeMaps, for root: an unprivileged runtime may use
		// newuidmap/newgidmap instead.
		out = append(out,
			step.Step{Op: "write /proc/<child>/uid_map", Args: fmt.Sprintf("%q", mapFile(c.UIDMappings)),
				Why: "uid inside, uid outside, count: which host uids the namespace's uids are"},
			step.Step{Op: "write /proc/<child>/gid_map", Args: fmt.Sprintf("%q", mapFile(c.GIDMappings)),
				Why: "the same for gids"})
	}
	for _, cs := range s.phase2 {
		out = append(out, cs.step)
	}
	for i := range out {
		out[i].Do, out[i].ReadBack = nil, nil
	}
	return out, nil
}
