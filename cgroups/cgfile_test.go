package cgroups

import (
	"errors"
	"os"
	"testing"
	"time"
)

// A cgroup file is pollable, but openFile's files stay out of the
// runtime's netpoller (no epoll_create1, eventfd2, epoll_ctl add and
// delete around each read or write): a deadline cannot be set on them.
func TestOpenFileNotPolled(t *testing.T) {
	hs, err := Hierarchies()
	if err != nil || len(hs) == 0 {
		t.Fatalf("no cgroup hierarchy mounted: %v", err)
	}
	f, err := openFile(hs[0].Mountpoint, "cgroup.procs", os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.SetReadDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
		t.Errorf("SetReadDeadline on %s: %v; want %v (the file is in the netpoller)", f.Name(), err, os.ErrNoDeadline)
	}
	if _, err := readFile(hs[0].Mountpoint, "cgroup.procs"); err != nil {
		t.Error(err)
	}
}
