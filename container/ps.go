package container

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ctr-lite/ctr-lite/program"
	"github.com/ctr-lite/ctr-lite/step"
)

// PsTable runs the host's ps(1) with psArgs (default "-ef") and writes
// its header and the lines of the container's processes, as runc ps
// does: the PID column is found by its header. Under --explain the run
// of ps(1) is a step of r's (prefix "ps").
func (r Root) PsTable(w io.Writer, pids []int, psArgs []string) error {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	var out []byte
	var err error
	r.runner("ps").RunOne(step.Step{Op: "execve", Args: "ps " + strings.Join(psArgs, " "),
		Why: "the host's ps(1) prints every process; the lines of the container's pids are kept",
		Do:  func() error { out, err = program.Command("ps", psArgs...).Output(); return nil }})
	if err != nil {
		return errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	col := -1
	for i, f := range strings.Fields(lines[0]) {
		if f == "PID" {
			col = i
		}
	}
	if col < 0 {
		return errorf("ps %s: no PID column in its output", strings.Join(psArgs, " "))
	}
	in := make(map[int]bool, len(pids))
	for _, p := range pids {
		in[p] = true
	}
	var b bytes.Buffer
	b.WriteString(lines[0] + "\n")
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if pid, err := strconv.Atoi(f[col]); err == nil && in[pid] {
			b.WriteString(l + "\n")
		}
	}
	_, err = w.Write(b.Bytes())
	return err
}

// Pids lists the container's processes as the host sees them (the
// cgroup's cgroup.procs): what `ps` shows. Under --explain its reads are
// explained (prefix "ps").
func (r Root) Pids(id string) ([]int, error) {
	run := r.runner("ps")
	s, err := r.loadExplained(run, id)
	if err != nil {
		return nil, err
	}
	if s.CgroupNone {
		// Rootless without a cgroup: nothing lists the container's
		// processes (runc fails too: "unable to get all container pids").
		return nil, errors.New("unable to get all container pids: the container has no cgroup (rootless, no delegated cgroup)")
	}
	m, err := s.cgroup()
	if err != nil {
		return nil, err
	}
	if !m.Exists() {
		return nil, nil
	}
	var pids []int
	run.RunOne(step.Step{Op: "read", Args: "cgroup.procs in " + m.DirList(),
		Why: "every process of the container is in its cgroup, listed by host pid",
		Do:  func() error { pids, err = m.Pids(); return nil },
		ReadBack: func() (string, error) {
			return fmt.Sprint(pids), nil
		}})
	return pids, err
}
