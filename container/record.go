package container

import (
	"encoding/json"
	"errors"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// statusFile is a small copy of the state (status.json beside
// state.json): everything but the config, plus the config's annotations.
// `list` and `state` read only it: decoding each state.json with its full
// config (a client's seccomp profile alone is tens of KiB) made `list`
// of 1,000 containers 40 times slower than of one.
const statusFile = "status.json"

// record is what statusFile holds. State.Config is nil in it.
type record struct {
	State
	Annotations map[string]string `json:"annotations,omitempty"`
	// Config shadows State.Config (always null here; encoding/json takes
	// the shallower field): encoding/json builds the encoders of every
	// field of a type it decodes, and specs.Spec's tree of types cost
	// about 0.8 ms of each `state` and `list`.
	Config *struct{} `json:"config"`
}

// saveRecord writes statusFile atomically, after state.json.
func (h *Handle) saveRecord() error {
	rec := record{State: h.State}
	rec.State.Config = nil
	if h.State.Config != nil {
		rec.Annotations = h.State.Config.Annotations
	}
	data, err := json.Marshal(&rec)
	if err != nil {
		return errorf("encode status: %w", err)
	}
	if err := writeFileAt(h.fd, statusFile, data, 0o600); err != nil {
		return errorf("write status: %w", err)
	}
	return nil
}

// maxRecord bounds what loadRecord reads in one read(2); a larger record
// (many annotations) is read from state.json instead.
const maxRecord = 8 << 10

// loadRecord reads ROOT/ID's statusFile with one open, read and close. A
// container without one (made by an older ctr-lite, or not saved yet) or
// with a large one is read from state.json.
func loadRecord(dir string) (*record, error) {
	fd, err := unix.Open(filepath.Join(dir, statusFile), unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err == nil {
		var buf [maxRecord]byte
		n, rerr := readFull(fd, buf[:])
		unix.Close(fd)
		if rerr == nil && n < len(buf) {
			var rec record
			if err := json.Unmarshal(buf[:n], &rec); err != nil {
				return nil, errorf("status file %s is corrupt: %w", filepath.Join(dir, statusFile), err)
			}
			return &rec, nil
		}
	} else if !errors.Is(err, unix.ENOENT) {
		return nil, errorf("read status: %w", err)
	}
	s, err := readState(dir)
	if err != nil {
		return nil, err
	}
	rec := &record{State: *s}
	if s.Config != nil {
		rec.Annotations = s.Config.Annotations
	}
	rec.State.Config = nil
	return rec, nil
}

// readFull reads fd into buf until EOF or buf is full.
func readFull(fd int, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := unix.Read(fd, buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return n, err
		}
		if m == 0 {
			break
		}
		n += m
	}
	return n, nil
}
