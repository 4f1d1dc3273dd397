package procfs

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOpenRefusesWhatIsNotTheKernels(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ostype"), []byte("Linux\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc", filepath.Join(dir, "proclink")); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(os.Getpid())
	for _, tt := range []struct {
		proc, rel string
		want      string // substring of the error; "" for none
	}{
		{"/proc", "sys/kernel/ostype", ""},
		{"/proc", pid + "/oom_score_adj", ""},
		{"/proc/", "sys/kernel/ostype", ""},
		{dir, "ostype", "not on a procfs"},                             // a plain directory at proc
		{filepath.Join(dir, "proclink"), "sys/kernel/ostype", "open "}, // proc itself a symlink
		{"/proc", "self/status", "open /proc/self/status"},             // a symlink inside
		{"/proc", "thread-self/attr/exec", "open /proc/thread-self"},
		{"/proc", "../etc/passwd", "open /proc/../etc/passwd"},
		{"/proc", "/etc/passwd", "open /proc//etc/passwd"},
	} {
		f, err := Open(tt.proc, tt.rel, unix.O_RDONLY)
		if f != nil {
			f.Close()
		}
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Open(%q, %q) = %v, want no error", tt.proc, tt.rel, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Open(%q, %q) = %v, want an error with %q", tt.proc, tt.rel, err, tt.want)
		}
	}
}

// Kernels before 5.6 have no openat2(2): the component walk refuses the
// same things.
func TestOpenNoFollow(t *testing.T) {
	dir, err := unix.Open("/proc", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dir)
	for rel, want := range map[string]error{
		"sys/kernel/ostype": nil,
		"self/status":       unix.ENOTDIR, // O_DIRECTORY|O_NOFOLLOW on the symlink
		"../etc/passwd":     unix.EINVAL,
		"sys//kernel":       unix.EINVAL,
		"sys/./kernel":      unix.EINVAL,
	} {
		fd, err := openNoFollow(dir, rel, unix.O_RDONLY)
		if err == nil {
			unix.Close(fd)
		}
		if !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("openNoFollow(/proc, %q) = %v, want %v", rel, err, want)
		}
	}
}

func TestReadWrite(t *testing.T) {
	if got, err := Read("/proc", "sys/kernel/ostype"); err != nil || got != "Linux" {
		t.Errorf("Read(sys/kernel/ostype) = %q, %v", got, err)
	}
	rel := strconv.Itoa(os.Getpid()) + "/oom_score_adj"
	old, err := Read("/proc", rel)
	if err != nil {
		t.Fatal(err)
	}
	// Writing the value it holds changes nothing and needs no privilege.
	if err := Write("/proc", rel, old); err != nil {
		t.Errorf("Write(%s, %s) = %v", rel, old, err)
	}
	if err := Write("/proc", "sys/kernel/ostype", "x"); !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
		t.Errorf("Write(sys/kernel/ostype) = %v, want the bare EACCES or EPERM", err)
	}
}

// A plain file bound over a procfs file (a container's mount over
// /proc/sys/...) is refused before anything is written to it.
func TestOpenRefusesBindOverProcFile(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: unshare(CLONE_NEWNS) and mount(2)")
	}
	fake := filepath.Join(t.TempDir(), "domainname")
	if err := os.WriteFile(fake, []byte("untouched\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with its mount namespace
		done <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return err
			}
			if err := unix.Mount("", "/", "", unix.MS_PRIVATE|unix.MS_REC, ""); err != nil {
				return err
			}
			if err := unix.Mount(fake, "/proc/sys/kernel/domainname", "", unix.MS_BIND, ""); err != nil {
				return err
			}
			return Write("/proc", "sys/kernel/domainname", "evil")
		}()
	}()
	if err := <-done; err == nil || !strings.Contains(err.Error(), "not on a procfs") {
		t.Errorf("Write through a bind over /proc/sys/kernel/domainname = %v, want not on a procfs", err)
	}
	if data, _ := os.ReadFile(fake); string(data) != "untouched\n" {
		t.Errorf("the fake file was written: %q", data)
	}
	f, err := os.Open(fake)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Check(f); err == nil || !strings.Contains(err.Error(), "not on a procfs") {
		t.Errorf("Check(%s) = %v, want not on a procfs", fake, err)
	}
}
