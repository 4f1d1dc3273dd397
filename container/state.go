package container

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"sync"
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
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := r.check(false); err != nil {
		return nil, err
	}
	return r.describe(id)
}

// describe is Describe of a validated ID in a checked root. It reads the
// container's small status record, not its whole state (see statusFile).
func (r Root) describe(id string) (*Report, error) {
	rec, err := loadRecord(r.dir(id))
	if err != nil {
		return nil, err
	}
	s := &rec.State
	if !s.loaded() {
		return nil, ErrNotExist // being created (see Load)
	}
	status := s.Status(r.dir(id), r.frozenFunc(s))
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

// List describes every container under the root, each with its Owner as
// runc's `list` gives it: the name of the user owning its state
// directory, from the host's /etc/passwd, or "#UID". As runc 1.1's list,
// a container whose state does not load (being created, see Load, or
// unreadable) is left out with a warning ("load container ID: ..."); one
// deleted meanwhile is left out silently.
func (r Root) List() ([]*Report, error) {
	ids, err := r.IDs()
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
			all[i], errs[i] = r.describe(ids[i])
			uids[i] = r.ownerUID(ids[i])
		}
	}
	if workers <= 1 {
		// A goroutine to wait for would only wake another thread.
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
			name = ownerName(uids[i])
			names[uids[i]] = name
		}
		rep.Owner = name
		reps = append(reps, rep)
	}
	return reps, nil
}

// ListIDs is List's IDs only (runc list --quiet): each container's small
// status record is read to leave out those List leaves out, not /proc.
func (r Root) ListIDs() ([]string, error) {
	ids, err := r.IDs()
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		rec, err := loadRecord(r.dir(id))
		if err == nil && !rec.State.loaded() {
			err = ErrNotExist
		}
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
func (r Root) ownerUID(id string) int64 {
	var st unix.Stat_t
	if err := unix.Stat(r.dir(id), &st); err != nil {
		return -1
	}
	return int64(st.Uid)
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
