package container

import (
	"strconv"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/process"
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
// Owner is empty, as in runc's `state`; List fills it.
func (r Root) Describe(id string) (*Report, error) {
	s, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	status := s.Status(r.dir(id), r.frozenFunc(s))
	rep := &Report{
		Version: specs.Version,
		ID:      s.ID,
		Status:  string(status),
		Bundle:  s.Bundle,
		Rootfs:  s.Rootfs,
		Created: s.Created,
	}
	if status != specs.StateStopped {
		rep.Pid = s.Pid
	}
	if s.Config != nil {
		rep.Annotations = s.Config.Annotations
	}
	return rep, nil
}

// List describes every container under the root, each with its Owner as
// runc's `list` gives it: the name of the user owning its state
// directory, from the host's /etc/passwd, or "#UID". A container whose
// state vanished between listing and reading (deleted meanwhile) is
// skipped.
func (r Root) List() ([]*Report, error) {
	ids, err := r.IDs()
	if err != nil {
		return nil, err
	}
	reps := make([]*Report, 0, len(ids))
	for _, id := range ids {
		rep, err := r.Describe(id)
		if err == ErrNotExist {
			continue
		}
		if err != nil {
			return nil, err
		}
		rep.Owner = r.owner(id)
		reps = append(reps, rep)
	}
	return reps, nil
}

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

// owner names the user owning id's state directory (runc's list.go).
func (r Root) owner(id string) string {
	var st unix.Stat_t
	if err := unix.Stat(r.dir(id), &st); err != nil {
		return ""
	}
	if name, ok, err := process.UserName("/", st.Uid); err == nil && ok {
		return name
	}
	return "#" + strconv.FormatUint(uint64(st.Uid), 10)
}
