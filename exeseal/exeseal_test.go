package exeseal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSealedSelfCannotBeWritten opens each kind of sealed copy of the
// test binary and tries what CVE-2019-5736 did: reopen it for writing
// through /proc/self/fd/N (the way /proc/PID/exe is reopened), and write.
func TestSealedSelfCannotBeWritten(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (overlayfs)")
	}
	bin, err := os.Readlink("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		open func() (*os.File, error)
	}{
		{"overlay", func() (*os.File, error) { return overlaySelf(bin, t.TempDir(), nil) }},
		{"memfd", func() (*os.File, error) { return memfdSelf(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.open()
			if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOSYS) {
				t.Skipf("not available here: %v", err)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			path := "/proc/self/fd/" + strconv.Itoa(int(f.Fd()))
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: content differs from %s", path, bin)
			}
			w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			if err == nil {
				_, err = w.Write([]byte("X"))
				w.Close()
			}
			if err == nil {
				t.Fatalf("writing %s through %s succeeded", bin, path)
			}
			t.Logf("write refused: %v", err)
			if got, _ := os.ReadFile(bin); !bytes.Equal(got, want) {
				t.Fatalf("%s changed", bin)
			}
		})
	}
}

// TestScratchLayerAvoidsOverlap: overlayfs refuses a layer inside or
// above another, so the second layer skips such candidates.
func TestScratchLayerAvoidsOverlap(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	bin, state, other := filepath.Join(base, "bin"), filepath.Join(base, "bin", "state"), filepath.Join(base, "binx")
	for _, d := range []string{state, other} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		cands []string
		want  string
	}{
		{[]string{other}, other},
		{[]string{state, base, bin, other}, other},
		{[]string{"/", filepath.Join(base, "missing")}, ""},
	} {
		if got := scratchLayer(bin, tc.cands...); got != tc.want {
			t.Errorf("scratchLayer(%s, %v) = %q, want %q", bin, tc.cands, got, tc.want)
		}
	}
}

// BenchmarkSealedSelf is the price of each start: go test -bench SealedSelf.
func BenchmarkSealedSelf(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root (overlayfs)")
	}
	bin, err := os.Readlink("/proc/self/exe")
	if err != nil {
		b.Fatal(err)
	}
	scratch := b.TempDir()
	for _, bc := range []struct {
		name string
		open func() (*os.File, error)
	}{
		{"open", func() (*os.File, error) { return os.Open(bin) }},
		{"overlay", func() (*os.File, error) { return overlaySelf(bin, scratch, nil) }},
		{"memfd", func() (*os.File, error) { return memfdSelf(nil) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				f, err := bc.open()
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// TestEscapeLowerdir holds escapeLowerdir to the strings.Replacer it
// replaced (kept out of the binary for size).
func TestEscapeLowerdir(t *testing.T) {
	want := strings.NewReplacer(`\`, `\\`, `:`, `\:`)
	for _, p := range []string{"", "/usr/bin", `/a:b`, `/a\b`, `/a\:b`, `::\\`, `/x\\:y:`} {
		if got := escapeLowerdir(p); got != want.Replace(p) {
			t.Errorf("escapeLowerdir(%q) = %q, want %q", p, got, want.Replace(p))
		}
	}
}
