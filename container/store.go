package container

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/step"
)

// Files in a container's state directory, ROOT/ID/.
const (
	stateFile = "state.json"
	// execFifo is the FIFO the init process blocks on between create and
	// start (runc's exec.fifo): start opens it for reading, which lets the
	// init's open for writing return. Its presence means "created".
	execFifo = "exec.fifo"
)

// State is what ctr-lite keeps about one container between commands.
type State struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	Rootfs string `json:"rootfs"`
	// Pid is the container's init process as the host sees it; 0 until
	// create has started it.
	Pid int `json:"pid"`
	// PidStart is field 22 of /proc/PID/stat (starttime, in clock ticks
	// since boot) when the init started: a recycled PID has another one.
	PidStart uint64    `json:"pid_start"`
	Created  time.Time `json:"created"`
	// Config is the config.json the container was created from: later
	// commands (exec, delete's poststop hooks, update) read it here, not
	// from the bundle, which may have changed since.
	Config *specs.Spec `json:"config"`
	// CgroupPath is the container's cgroup path as the cgroups package
	// takes it.
	CgroupPath string `json:"cgroup_path,omitempty"`
	// CgroupMode and CgroupDirs are where the kernel put that cgroup in
	// each hierarchy at create: a relative path resolves against the
	// caller's own cgroup, and later commands may run in another one.
	CgroupMode cgroups.Mode      `json:"cgroup_mode"`
	CgroupDirs map[string]string `json:"cgroup_dirs,omitempty"`
	// CgroupNone: a rootless create could make the cgroup in no
	// hierarchy (cgroups.Manager.SetRootless); the container has none.
	CgroupNone bool `json:"cgroup_none,omitempty"`
	// Creating: create has not finished (it runs, or was killed). The
	// state then says what exists so far, for `delete --force`.
	Creating bool `json:"creating,omitempty"`
	// NoNewKeyring: created with --no-new-keyring, so exec joins no
	// keyring either.
	NoNewKeyring bool `json:"no_new_keyring,omitempty"`
}

// Root is the directory that holds every container's state (--root).
type Root struct {
	Dir string
	// Warn, if set, receives what fails without failing the command:
	// poststart and poststop hooks (runtime.md: "log a warning").
	Warn func(format string, args ...any)
	// Explain, if set, receives each kernel step of a command as it
	// happens (--explain), one line each (package step).
	Explain io.Writer
}

// runner runs a command's steps, explaining them to r.Explain with
// prefix ("create", "cgroup").
func (r Root) runner(prefix string) *step.Runner {
	return &step.Runner{Explain: r.Explain, Prefix: prefix}
}

func (r Root) warnf(format string, args ...any) {
	if r.Warn != nil {
		r.Warn(format, args...)
	}
}

// dir is ROOT/ID. The ID must have been validated.
func (r Root) dir(id string) string { return filepath.Join(r.Dir, id) }

// ErrNotExist is returned for an ID that has no state.
var ErrNotExist = errors.New("container does not exist")

// ErrExist is returned when creating an ID that is taken.
var ErrExist = errors.New("container already exists")

// Handle is a container's state directory, opened and locked.
type Handle struct {
	Dir   string
	fd    int
	State State
}

// Reserve creates ROOT/ID and locks it. mkdir(2) is atomic, so of two
// concurrent creates of one ID exactly one gets here.
func (r Root) Reserve(id string) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := r.check(true); err != nil {
		return nil, err
	}
	d := r.dir(id)
	if err := os.Mkdir(d, 0o711); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, ErrExist
		}
		return nil, errorf("state directory: %w", err)
	}
	h, err := openLocked(d)
	if err != nil {
		os.Remove(d)
		return nil, err
	}
	h.State.ID = id
	return h, nil
}

// check makes sure the state root is ours: owned by us (or root),
// writable by no one else, and not reached through another user's
// symlink (see checkLink). Another user who could write there could plant
// a state.json whose hooks delete would run, or swap a container's
// directory for a link. With create, a missing root is made 0700 (as
// runc does); a missing root is otherwise fine (no containers).
func (r Root) check(create bool) error {
	if create {
		if err := os.MkdirAll(r.Dir, 0o700); err != nil {
			return errorf("state root %s: %w", r.Dir, err)
		}
	}
	fd, err := openNoPlanted(r.Dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		if !create && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return errorf("state root: %w", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return errorf("state root %s: fstat: %w", r.Dir, err)
	}
	if (st.Uid != uint32(os.Geteuid()) && st.Uid != 0) || st.Mode&0o022 != 0 {
		return errorf("state root %s: owned by uid %d with mode %#o: other users could change containers' state",
			r.Dir, st.Uid, st.Mode&0o7777)
	}
	return nil
}

// Open locks ROOT/ID and reads its state. The lock serializes commands on
// one container (two deletes, a kill during a delete). A container whose
// create has not ended (it runs, or was killed) is ErrNotExist at once,
// as for runc 1.1 (see Load), rather than waited for: only delete
// (openAny) takes it.
func (r Root) Open(id string) (*Handle, error) {
	return r.open(id, false)
}

// openAny is Open that also takes a container whose create has not
// ended, waiting for the lock a running create holds: delete --force of
// a killed create removes what it left.
func (r Root) openAny(id string) (*Handle, error) {
	return r.open(id, true)
}

func (r Root) open(id string, creating bool) (*Handle, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := r.check(false); err != nil {
		return nil, err
	}
	if !creating {
		// Read unlocked first: a running create holds the lock.
		if s, err := readState(r.dir(id)); err == nil && !s.loaded() {
			return nil, ErrNotExist
		}
	}
	h, err := openLocked(r.dir(id))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotExist
		}
		return nil, err
	}
	if err := h.read(); err != nil {
		h.Close()
		return nil, err
	}
	if !creating && !h.State.loaded() {
		h.Close()
		return nil, ErrNotExist
	}
	return h, nil
}

// Load reads ROOT/ID's state without locking: state.json is only ever
// replaced by rename(2), so a reader sees the old or the new file whole.
// A container whose create has not finished (it runs, or was killed) is
// ErrNotExist, as for runc 1.1, whose state.json is written when create
// ends: what reads a container (state, list, ps, events, stats,
// inspect) sees it once create is done; delete --force removes it.
func (r Root) Load(id string) (*State, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := r.check(false); err != nil {
		return nil, err
	}
	s, err := readState(r.dir(id))
	if err != nil {
		return nil, err
	}
	if !s.loaded() {
		return nil, ErrNotExist
	}
	return s, nil
}

// loaded: create finished, so the state is whole (see Load).
func (s *State) loaded() bool { return !s.Creating && s.Pid != 0 }

// IDs lists the containers under the root, sorted.
func (r Root) IDs() ([]string, error) {
	if err := r.check(false); err != nil {
		return nil, err
	}
	// Not os.ReadDir: its sort of DirEntry values is a generic
	// instantiation of its own in the binary (8 KiB); IDs sort as strings.
	var ents []fs.DirEntry
	d, err := os.Open(r.Dir)
	if err == nil {
		ents, err = d.ReadDir(-1)
		d.Close()
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, errorf("state root %s: %w", r.Dir, err)
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			ids = append(ids, e.Name())
		}
	}
	sort.Strings(ids)
	return ids, nil
}

func openLocked(dir string) (*Handle, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	// flock(2) on the directory itself: released when the fd closes,
	// even if this process dies.
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "flock", Path: dir, Err: err}
	}
	return &Handle{Dir: dir, fd: fd}, nil
}

func (h *Handle) read() error {
	s, err := readState(h.Dir)
	if err != nil {
		return err
	}
	h.State = *s
	return nil
}

func readState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Stat(dir); serr == nil {
				// Being created: the directory exists, the state not yet.
				return &State{ID: filepath.Base(dir)}, nil
			}
			return nil, ErrNotExist
		}
		return nil, errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, errorf("state file %s is corrupt: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// Save writes the state atomically: a temporary file, then rename(2).
func (h *Handle) Save() error {
	data, err := json.Marshal(&h.State)
	if err != nil {
		return errorf("encode state: %w", err)
	}
	if err := writeFileAt(h.fd, stateFile, data, 0o600); err != nil {
		return errorf("write state: %w", err)
	}
	return h.saveRecord()
}

// FifoPath is the exec FIFO's path.
func (h *Handle) FifoPath() string { return filepath.Join(h.Dir, execFifo) }

// Remove deletes the state directory and releases the lock.
func (h *Handle) Remove() error {
	err := os.RemoveAll(h.Dir)
	h.Close()
	if err != nil {
		return errorf("remove state: %w", err)
	}
	return nil
}

// Close releases the lock.
func (h *Handle) Close() {
	if h.fd >= 0 {
		unix.Close(h.fd)
		h.fd = -1
	}
}

// cgroup is the container's cgroup manager (no resources: for kill,
// pause, stats and delete), from the directories recorded at create.
func (s *State) cgroup() (*cgroups.Manager, error) {
	if s.CgroupNone {
		return cgroups.None(s.CgroupPath, s.CgroupMode), nil
	}
	if len(s.CgroupDirs) == 0 {
		return cgroups.New(s.CgroupPath, nil)
	}
	return cgroups.Load(s.CgroupPath, s.CgroupMode, s.CgroupDirs)
}

// openIn locks a container and checks it is in one of the states.
func (r Root) openIn(id string, want ...specs.ContainerState) (*Handle, specs.ContainerState, error) {
	h, err := r.Open(id)
	if err != nil {
		return nil, "", err
	}
	status := h.State.Status(h.Dir, r.frozenFunc(&h.State))
	for _, w := range want {
		if status == w {
			return h, status, nil
		}
	}
	h.Close()
	return nil, status, errorf("container is %s", status)
}
