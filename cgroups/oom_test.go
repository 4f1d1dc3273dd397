package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatchEventsCountsOOM drives the v2 watch with a plain file shaped
// like memory.events: inotify reports each write, and Wait returns how
// much the "oom" counter rose since the watch began.
func TestWatchEventsCountsOOM(t *testing.T) {
	file := filepath.Join(t.TempDir(), "memory.events")
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\n")
	w, err := watchEvents(file)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, step := range []struct {
		content string // "" writes nothing
		want    int
	}{
		{"", 0},                           // nothing pending: the 2 before the watch do not count
		{"max 4\noom 2\noom_kill 2\n", 0}, // another key changed
		{"max 5\noom 3\noom_kill 3\n", 1}, // one OOM
		{"max 9\noom 6\noom_kill 5\n", 3}, // three at once
	} {
		if step.content != "" {
			write(step.content)
		}
		n, err := w.Wait(time.Second)
		if step.content == "" {
			n, err = w.Wait(0)
		}
		if err != nil || n != step.want {
			t.Errorf("after %q: Wait = %d, %v; want %d", step.content, n, err, step.want)
		}
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Wait(time.Second); !errors.Is(err, ErrGone) {
		t.Errorf("after the file is removed: Wait error %v, want ErrGone", err)
	}
}
