package cgroups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// ErrGone is returned by OOMWatch.Wait when the cgroup was removed.
var ErrGone = errors.New("cgroup removed")

// OOMWatch is a registration for the kernel's OOM notifications of one
// cgroup: on v1 an eventfd registered for memory.oom_control through
// cgroup.event_control (cgroup-v1/memory.rst §9 "OOM Control"), signalled
// each time the group hits its limit and the OOM killer runs; on v2 an
// inotify watch on memory.events, whose "oom" counter the kernel raises
// at each such event (cgroup-v2.rst "memory.events").
type OOMWatch struct {
	fd      int    // the eventfd (v1) or inotify descriptor (v2)
	control string // v1: cgroup.event_control, gone when the group is
	events  string // v2: memory.events
	last    uint64 // v2: the "oom" counter last seen
}

// WatchOOMStep is WatchOOM as a step, for --explain: the watch goes to *w.
func (m *Manager) WatchOOMStep(w **OOMWatch) step.Step {
	dir := m.dir("memory")
	s := step.Step{Op: "eventfd2, write", Args: filepath.Join(dir, "cgroup.event_control") + "=<eventfd> <fd of memory.oom_control>",
		Why: "the kernel signals the eventfd each time the group hits its memory limit and the OOM killer runs"}
	if m.mode == Unified {
		s = step.Step{Op: "inotify_add_watch", Args: filepath.Join(dir, "memory.events") + ", IN_MODIFY",
			Why: "the kernel modifies memory.events when its oom_kill count goes up"}
	}
	s.Do = func() (err error) {
		*w, err = m.WatchOOM()
		return err
	}
	return s
}

// WatchOOM registers for the group's OOM notifications. Close releases
// them.
func (m *Manager) WatchOOM() (*OOMWatch, error) {
	dir := m.dir("memory")
	if dir == "" {
		return nil, errorf("cgroup %s: no memory controller", m.path)
	}
	if m.mode == Unified {
		return watchEvents(filepath.Join(dir, "memory.events"))
	}
	return watchOOMControl(dir)
}

func watchOOMControl(dir string) (*OOMWatch, error) {
	oc, err := os.Open(filepath.Join(dir, "memory.oom_control"))
	if err != nil {
		return nil, err
	}
	// The kernel takes its own reference on the file at registration.
	defer oc.Close()
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, errorf("eventfd: %w", err)
	}
	w := &OOMWatch{fd: efd, control: filepath.Join(dir, "cgroup.event_control")}
	// "<event_fd> <fd of memory.oom_control>"
	if err := os.WriteFile(w.control, []byte(fmt.Sprintf("%d %d", efd, oc.Fd())), 0); err != nil {
		unix.Close(efd)
		return nil, errorf("register eventfd for OOM: %w", err)
	}
	return w, nil
}

func watchEvents(file string) (*OOMWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, errorf("inotify_init1: %w", err)
	}
	w := &OOMWatch{fd: fd, events: file}
	if _, err := unix.InotifyAddWatch(fd, file, unix.IN_MODIFY); err != nil {
		unix.Close(fd)
		return nil, errorf("inotify_add_watch %s: %w", file, err)
	}
	// Counted from now: the events before the watch are not reported.
	if w.last, err = eventsCounter(file, "oom"); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return w, nil
}

// Wait waits up to timeout (0: only what is pending) for OOM events and
// returns how many happened. ErrGone: the cgroup was removed.
func (w *OOMWatch) Wait(timeout time.Duration) (int, error) {
	fds := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, int(timeout.Milliseconds()))
	if errors.Is(err, unix.EINTR) || n == 0 {
		return 0, nil
	}
	if err != nil {
		return 0, errorf("poll: %w", err)
	}
	if w.events == "" {
		// v1: the eventfd's counter is the number of signals; the
		// kernel also signals it when the group is removed.
		var buf [8]byte
		if _, err := unix.Read(w.fd, buf[:]); err != nil {
			return 0, errorf("read eventfd: %w", err)
		}
		if _, err := os.Lstat(w.control); err != nil {
			return 0, ErrGone
		}
		return int(binary.NativeEndian.Uint64(buf[:])), nil
	}
	// v2: drain the inotify events, then compare the counter.
	var buf [4096]byte
	rn, err := unix.Read(w.fd, buf[:])
	if err != nil && !errors.Is(err, unix.EAGAIN) {
		return 0, errorf("read inotify: %w", err)
	}
	for off := 0; off+unix.SizeofInotifyEvent <= rn; {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
		if ev.Mask&unix.IN_IGNORED != 0 {
			return 0, ErrGone
		}
		off += unix.SizeofInotifyEvent + int(ev.Len)
	}
	cur, err := eventsCounter(w.events, "oom")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, ErrGone
		}
		return 0, err
	}
	if cur <= w.last {
		return 0, nil
	}
	d := cur - w.last
	w.last = cur
	return int(d), nil
}

// Close releases the registration.
func (w *OOMWatch) Close() error { return unix.Close(w.fd) }

// eventsCounter reads "key N" from a flat-keyed file such as memory.events.
func eventsCounter(file, key string) (uint64, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, errorf("%s: no %q", file, key)
}
