package container

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/process"
	"github.com/ctr-lite/ctr-lite/step"
)

// Report is what `state` and `list --format json` print: the spec's state
// (runtime.md "State") plus the fields runc adds (rootfs, created, owner),
// in runc's field names so that tools parsing runc's output parse ours.
type Report struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Describe reports one container's state as the kernel shows it now.
// Owner is empty, as in runc's `state`; List fills it. Under --explain
// each read is explained (prefix "state").
func (r Root) Describe(id string) (*Report, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := r.check(false); err != nil {
		return nil, err
	}
	return r.describe(r.runner("state"), id)
}

// describe is Describe of a validated ID in a checked root, its reads
// steps of run. It reads the container's small status record, not its
// whole state (see statusFile).
func (r Root) describe(run *step.Runner, id string) (*Report, error) {
	dir := r.dir(id)
	var rec *record
	var err error
	run.RunOne(step.Step{Op: "read", Args: filepath.Join(dir, statusFile),
		Why: "the container's state as create saved it: the init's pid and start time, bundle, cgroup (state.json when there is no " + statusFile + ")",
		Do: func() error {
			if rec, err = loadRecord(dir); err == nil && !rec.State.loaded() {
				err = ErrNotExist // being created (see Load)
			}
			return nil
		},
		ReadBack: func() (string, error) {
			if err == ErrNotExist {
				return "create has not ended: no container yet, as for runc", nil
			}
			if err != nil {
				return err.Error(), nil
			}
			return fmt.Sprintf("pid %d, starttime %d, bundle %s", rec.State.Pid, rec.State.PidStart, rec.State.Bundle), nil
		}})
	if err != nil {
		return nil, err
	}
	s := &rec.State
	status := r.statusExplained(run, s)
	rep := &Report{
		Version:     specs.Version,
		ID:          s.ID,
		Status:      string(status),
		Bundle:      s.Bundle,
		Rootfs:      s.Rootfs,
		Created:     s.Created,
		Annotations: rec.Annotations,
	}
	if status != specs.StateStopped {
		rep.Pid = s.Pid
	}
	return rep, nil
}

// statusExplained is s.Status with each kernel read it makes a step of
// run (--explain): the init's /proc entry, the exec FIFO, the freezer.
func (r Root) statusExplained(run *step.Runner, s *State) specs.ContainerState {
	var cg *cgroups.Manager
	manager := func() *cgroups.Manager {
		if cg == nil {
			cg, _ = s.cgroup()
		}
		return cg
	}
	frozen := func() bool {
		m := manager()
		if m == nil {
			return false
		}
		f, err := m.Frozen()
		return err == nil && f
	}
	freezer := func() string {
		if m := manager(); m != nil {
			return m.FreezerFile()
		}
		return ""
	}
	return s.status(run, r.dir(s.ID), frozen, freezer)
}

// runRead runs s, a read for --explain's sake, and gives its error
// unwrapped: the command's message stays what it is without --explain.
func runRead(run *step.Runner, s step.Step) error {
	err := run.RunOne(s)
	var se *step.Error
	if errors.As(err, &se) {
		return se.Err
	}
	return err
}

// loadExplained is Load as a step of run (--explain): the read of the
// container's saved state, for the commands that read a container
// (ps, events, stats, inspect).
func (r Root) loadExplained(run *step.Runner, id string) (*State, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	var s *State
	var err error
	run.RunOne(step.Step{Op: "read", Args: filepath.Join(r.dir(id), stateFile),
		Why: "the container's saved state: its init's pid and start time, its cgroup's directories",
		Do:  func() error { s, err = r.Load(id); return nil },
		ReadBack: func() (string, error) {
			if err != nil {
				return err.Error(), nil
			}
			return fmt.Sprintf("pid %d, starttime %d, cgroup %s", s.Pid, s.PidStart, s.CgroupPath), nil
		}})
	return s, err
}

// List describes every container under the root, each with its Owner as
// runc's `list` gives it: the name of the user owning its state
// directory, from the host's /etc/passwd, or "#UID". As runc 1.1's list,
// a container whose state does not load (being created, see Load, or
// unreadable) is left out with a warning ("load container ID: ..."); one
// deleted meanwhile is left out silently. Under --explain each read is
// explained (prefix "list"), one container after the other.
func (r Root) List() ([]*Report, error) {
	run := r.runner("list")
	ids, err := r.listIDs(run)
	if err != nil {
		return nil, err
	}
	// Each container costs a few reads of its files and /proc, most of
	// it in the kernel: one goroutine per CPU reads a share.
	all := make([]*Report, len(ids))
	uids := make([]int64, len(ids))
	errs := make([]error, len(ids))
	workers := min(runtime.GOMAXPROCS(0), (len(ids)+listChunk-1)/listChunk)
	read := func(w int) {
		for i := w; i < len(ids); i += workers {
			all[i], errs[i] = r.describe(run, ids[i])
			if errs[i] == nil {
				uids[i] = r.ownerUID(run, ids[i])
			}
		}
	}
	if workers <= 1 || r.Explain != nil {
		// A goroutine to wait for would only wake another thread; the
		// explained reads are shown in order.
		workers = 1
		read(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				read(w)
			}()
		}
		wg.Wait()
	}
	reps := make([]*Report, 0, len(ids))
	names := map[int64]string{} // /etc/passwd is read once per owner
	for i, rep := range all {
		if errs[i] != nil {
			r.warnSkipped(ids[i], errs[i])
			continue
		}
		name, ok := names[uids[i]]
		if !ok {
			run.RunOne(step.Step{Op: "read", Args: "/etc/passwd", Why: fmt.Sprintf("the name of uid %d, the OWNER (#UID when it has none)", uids[i]),
				Do:       func() error { name = ownerName(uids[i]); return nil },
				ReadBack: func() (string, error) { return name, nil }})
			names[uids[i]] = name
		}
		rep.Owner = name
		reps = append(reps, rep)
	}
	return reps, nil
}

// listIDs is IDs as a step of run.
func (r Root) listIDs(run *step.Runner) (ids []string, err error) {
	run.RunOne(step.Step{Op: "getdents64", Args: r.Dir, Why: "each directory under --root is a container's state",
		Do:       func() error { ids, err = r.IDs(); return nil },
		ReadBack: func() (string, error) { return fmt.Sprintf("%d: %s", len(ids), strings.Join(ids, " ")), nil }})
	return ids, err
}

// ListIDs is List's IDs only (runc list --quiet): each container's small
// status record is read to leave out those List leaves out, not /proc.
func (r Root) ListIDs() ([]string, error) {
	run := r.runner("list")
	ids, err := r.listIDs(run)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		var rec *record
		var err error
		run.RunOne(step.Step{Op: "read", Args: filepath.Join(r.dir(id), statusFile),
			Why: "is create done (runc lists only the containers whose state loads)",
			Do: func() error {
				if rec, err = loadRecord(r.dir(id)); err == nil && !rec.State.loaded() {
					err = ErrNotExist
				}
				return nil
			},
			ReadBack: func() (string, error) {
				if err != nil {
					return err.Error() + ": left out", nil
				}
				return "listed", nil
			}})
		if err != nil {
			r.warnSkipped(id, err)
			continue
		}
		out = append(out, id)
	}
	return out, nil
}

// warnSkipped gives runc's line for a container list leaves out, unless
// its state directory is gone (deleted since it was listed).
func (r Root) warnSkipped(id string, err error) {
	if _, serr := os.Lstat(r.dir(id)); errors.Is(serr, fs.ErrNotExist) {
		return
	}
	r.warnf("load container %s: %v", id, err)
}

// listChunk is how many containers make another goroutine worth it.
const listChunk = 64

// frozenFunc tells Status whether the container's cgroup is frozen.
func (r Root) frozenFunc(s *State) func() bool {
	return func() bool {
		m, err := s.cgroup()
		if err != nil {
			return false
		}
		frozen, err := m.Frozen()
		return err == nil && frozen
	}
}

// ownerUID is the uid owning id's state directory, -1 if it is gone.
func (r Root) ownerUID(run *step.Runner, id string) int64 {
	uid := int64(-1)
	run.RunOne(step.Step{Op: "stat", Args: r.dir(id), Why: "the owner of the state directory is the container's OWNER",
		Do: func() error {
			var st unix.Stat_t
			if err := unix.Stat(r.dir(id), &st); err == nil {
				uid = int64(st.Uid)
			}
			return nil
		},
		ReadBack: func() (string, error) { return "uid " + strconv.FormatInt(uid, 10), nil }})
	return uid
}

// ownerName names a state directory's owner as runc's list.go does: the
// user's name from the host's /etc/passwd, or "#UID"; "" if it is gone.
func ownerName(uid int64) string {
	if uid < 0 {
		return ""
	}
	if name, ok, err := process.UserName("/", uint32(uid)); err == nil && ok {
		return name
	}
	return "#" + strconv.FormatInt(uid, 10)
}
