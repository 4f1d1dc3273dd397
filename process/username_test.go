package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestUserName(t *testing.T) {
	root := etcRoot(t, "root:x:0:0:root:/root:/bin/sh\nbroken:x:x1:0::/:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nalice2:x:1000:1000::/:/bin/sh\n", "")
	for _, tt := range []struct {
		uid  uint32
		name string
		ok   bool
	}{{0, "root", true}, {1000, "alice", true}, {1, "", false}, {4294967295, "", false}} {
		name, ok, err := UserName(root, tt.uid)
		if err != nil || name != tt.name || ok != tt.ok {
			t.Errorf("UserName(%d) = %q, %v, %v; want %q, %v", tt.uid, name, ok, err, tt.name, tt.ok)
		}
	}
	if name, ok, err := UserName(t.TempDir(), 0); err != nil || ok || name != "" {
		t.Errorf("UserName without /etc/passwd = %q, %v, %v; want not found", name, ok, err)
	}
}

// The host's own files (root "/", list's owners) are opened by their
// path, with the same refusals as a container's: not through pathrs-lite's
// in-root open, which builds a private procfs mount each time (45
// allocations and ~40 syscalls a read; 9 allocations this way).
func TestReadHostEtcFile(t *testing.T) {
	dir := t.TempDir()
	reg := filepath.Join(dir, "passwd")
	if err := os.WriteFile(reg, []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, want, err string
	}{
		{name: reg, want: "root:x:0:0:root:/root:/bin/sh\n"},
		{name: filepath.Join(dir, "missing")},
		{name: fifo, err: "is not a regular file"},
		{name: dir, err: "is not a regular file"},
	} {
		done := make(chan struct{})
		var data []byte
		var err error
		go func() { data, err = readEtcFile("/", tt.name); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("readEtcFile(/, %s) blocked", tt.name)
		}
		if string(data) != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("readEtcFile(/, %s) = %q, %v; want %q, %q", tt.name, data, err, tt.want, tt.err)
		}
	}
	if n := testing.AllocsPerRun(10, func() { readEtcFile("/", reg) }); n > 20 {
		t.Errorf("readEtcFile(/, ...) allocates %v times: resolved in root as a container's file", n)
	}
}
