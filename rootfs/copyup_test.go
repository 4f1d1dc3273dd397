package rootfs

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(src, "d/e"), 0o750))
	must(os.WriteFile(filepath.Join(src, "d/e/f"), []byte("data"), 0o640))
	must(os.Chmod(filepath.Join(src, "d/e/f"), os.ModeSetuid|0o750))
	must(os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	must(unix.Mkfifo(filepath.Join(src, "fifo"), 0o600))
	must(os.Lchown(filepath.Join(src, "link"), 7, 8))

	from, err := os.Open(src)
	must(err)
	defer from.Close()
	to, err := os.Open(dst)
	must(err)
	defer to.Close()
	must(copyTree(from, to))

	if data, err := os.ReadFile(filepath.Join(dst, "d/e/f")); err != nil || string(data) != "data" {
		t.Errorf("d/e/f: %q, %v", data, err)
	}
	for name, want := range map[string]os.FileMode{
		"d":     os.ModeDir | 0o750,
		"d/e/f": os.ModeSetuid | 0o750,
		"fifo":  os.ModeNamedPipe | 0o600,
	} {
		if fi, err := os.Lstat(filepath.Join(dst, name)); err != nil || fi.Mode() != want {
			t.Errorf("%s: mode %v (%v), want %v", name, fi.Mode(), err, want)
		}
	}
	if l, err := os.Readlink(filepath.Join(dst, "link")); err != nil || l != "/etc/passwd" {
		t.Errorf("link: %q, %v (a symlink is copied, not followed)", l, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dst, "link"), &st); err != nil || st.Uid != 7 || st.Gid != 8 {
		t.Errorf("link owner %d:%d (%v), want 7:8", st.Uid, st.Gid, err)
	}
	again, err := os.Open(src)
	must(err)
	defer again.Close()
	if err := copyTree(again, to); err == nil {
		t.Error("copy onto existing entries succeeded, want EEXIST")
	}
}
