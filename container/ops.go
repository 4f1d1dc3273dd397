package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/cgroups"
	"github.com/ctr-lite/ctr-lite/step"
)

// openRunning locks a container and checks it is in one of the states.
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
	return nil, status, fmt.Errorf("container is %s", status)
}

// Pause freezes every process of the container (runc pause): the
// cgroup freezer, v1 freezer.state or v2 cgroup.freeze.
func (r Root) Pause(id string, explain io.Writer) error {
	return r.freeze(id, true, explain, specs.StateRunning)
}

// Resume thaws a paused container.
func (r Root) Resume(id string, explain io.Writer) error {
	return r.freeze(id, false, explain, "paused")
}

func (r Root) freeze(id string, freeze bool, explain io.Writer, want specs.ContainerState) error {
	h, _, err := r.openIn(id, want)
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := h.State.cgroup()
	if err != nil {
		return err
	}
	return (&step.Runner{Explain: explain, Prefix: "cgroup"}).Run(m.FreezeStep(freeze))
}

// Pids lists the container's processes as the host sees them (the
// cgroup's cgroup.procs): what `ps` shows.
func (r Root) Pids(id string) ([]int, error) {
	s, err := r.Load(id)
	if err != nil {
		return nil, err
	}
	m, err := s.cgroup()
	if err != nil {
		return nil, err
	}
	if !m.Exists() {
		return nil, nil
	}
	return m.Pids()
}

// Update changes a running container's resources (runc update) and keeps
// the new values in its state, so a later update merges with them.
func (r Root) Update(id string, res *specs.LinuxResources, explain io.Writer) error {
	h, _, err := r.openIn(id, specs.StateRunning, specs.StateCreated, "paused")
	if err != nil {
		return err
	}
	defer h.Close()
	m, err := h.State.cgroup()
	if err != nil {
		return err
	}
	var cur *specs.LinuxResources
	if c := h.State.Config; c != nil && c.Linux != nil {
		cur = c.Linux.Resources
	}
	steps, err := m.UpdateSteps(cgroups.WithPartners(res, cur))
	ignored := cgroups.Ignored(res)
	for _, w := range ignored {
		r.warnf("%s", w)
	}
	if errors.Is(err, cgroups.ErrNoLimits) && len(ignored) > 0 {
		return nil // only ignored fields: runc warns and succeeds
	}
	if err != nil {
		return err
	}
	if err := (&step.Runner{Explain: explain, Prefix: "cgroup"}).Run(steps...); err != nil {
		return err
	}
	return h.mergeResources(res)
}

// mergeResources overlays res on the stored linux.resources: a JSON
// decode into the existing value sets only the fields res has.
func (h *Handle) mergeResources(res *specs.LinuxResources) error {
	spec := h.State.Config
	if spec.Linux.Resources == nil {
		spec.Linux.Resources = &specs.LinuxResources{}
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, spec.Linux.Resources); err != nil {
		return err
	}
	return h.Save()
}

// Event is one line of `events` (runc's types.Event).
type Event struct {
	Type string         `json:"type"`
	ID   string         `json:"id"`
	Data *cgroups.Stats `json:"data,omitempty"`
}

// Events writes the container's events as JSON lines (runc events):
// "stats" every interval (once and return, with once), and "oom" each
// time the kernel's OOM killer killed a process in the container. It
// returns when the container stops.
func (r Root) Events(id string, interval time.Duration, once bool, w io.Writer) error {
	s, err := r.Load(id)
	if err != nil {
		return err
	}
	if !s.InitAlive() {
		return errors.New("container is not running")
	}
	m, err := s.cgroup()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	stats := func() error {
		st, err := m.Stats()
		if err != nil {
			return err
		}
		return enc.Encode(&Event{Type: "stats", ID: id, Data: st})
	}
	if once {
		return stats()
	}
	if interval <= 0 {
		return fmt.Errorf("--interval %s: must be positive", interval)
	}
	// OOM events come from the kernel's notification (v1 eventfd on
	// memory.oom_control, v2 inotify on memory.events): one "oom" line
	// each time the group hit its limit and the OOM killer ran.
	oom, err := m.WatchOOM()
	if err != nil {
		return fmt.Errorf("watch for OOM: %w", err)
	}
	defer oom.Close()
	emitOOM := func(n int) error {
		for ; n > 0; n-- {
			if err := enc.Encode(&Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		}
		return nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		// Wake at least every 100ms to notice that the container stopped.
		n, err := oom.Wait(100 * time.Millisecond)
		if errors.Is(err, cgroups.ErrGone) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := emitOOM(n); err != nil {
			return err
		}
		select {
		case <-tick.C:
			if err := stats(); err != nil {
				if !s.InitAlive() {
					return nil
				}
				return err
			}
		default:
		}
		if !s.InitAlive() {
			// An OOM kill of the init: report what the kernel
			// already signalled before returning.
			n, _ := oom.Wait(0)
			return emitOOM(n)
		}
	}
}
