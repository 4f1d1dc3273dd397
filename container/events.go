package container

import (
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/ctr-lite/ctr-lite/cgroups"
)

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
//
// Under --explain its reads are explained (prefix "events"), each
// interval's too.
func (r Root) Events(id string, interval time.Duration, once bool, w io.Writer) error {
	run := r.runner("events")
	s, err := r.loadExplained(run, id)
	if err != nil {
		return err
	}
	if !s.initAlive(run) {
		return errors.New("container is not running")
	}
	m, err := s.cgroup()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	stats := func() error {
		var st *cgroups.Stats
		if err := runRead(run, m.StatsStep(&st)); err != nil {
			return err
		}
		return enc.Encode(&Event{Type: "stats", ID: id, Data: st})
	}
	if once {
		return stats()
	}
	if interval <= 0 {
		return errorf("--interval %s: must be positive", interval)
	}
	// OOM events come from the kernel's notification (v1 eventfd on
	// memory.oom_control, v2 inotify on memory.events): one "oom" line
	// each time the group hit its limit and the OOM killer ran.
	var oom *cgroups.OOMWatch
	if err := runRead(run, m.WatchOOMStep(&oom)); err != nil {
		return errorf("watch for OOM: %w", err)
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
