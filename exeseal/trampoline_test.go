package exeseal

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// The embedded bytes are what the sources assemble to, for each
// architecture whose binutils are installed here (they are not needed to
// build ctr-lite; Debian: binutils, binutils-aarch64-linux-gnu).
func TestTrampolineIsItsSource(t *testing.T) {
	for _, tc := range []struct {
		arch, prefix string
		want         []byte
	}{
		{"amd64", "x86_64-linux-gnu-", trampolineAMD64},
		{"arm64", "aarch64-linux-gnu-", trampolineARM64},
	} {
		t.Run(tc.arch, func(t *testing.T) {
			as, errAs := exec.LookPath(tc.prefix + "as")
			ld, errLd := exec.LookPath(tc.prefix + "ld")
			if errAs != nil || errLd != nil {
				t.Skipf("binutils for %s (%sas, %sld) not installed: the bytes cannot be rebuilt here", tc.arch, tc.prefix, tc.prefix)
			}
			dir := t.TempDir()
			obj, bin := filepath.Join(dir, "t.o"), filepath.Join(dir, "t")
			if out, err := exec.Command(as, "-o", obj, "testdata/trampoline_"+tc.arch+".s").CombinedOutput(); err != nil {
				t.Fatalf("as: %v: %s", err, out)
			}
			if out, err := exec.Command(ld, "-static", "-N", "-s", "--build-id=none", "-z", "noexecstack", "-o", bin, obj).CombinedOutput(); err != nil {
				t.Fatalf("ld: %v: %s", err, out)
			}
			got, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("the embedded %s trampoline (%d bytes) is not testdata/trampoline_%s.s assembled (%d bytes): regenerate it", tc.arch, len(tc.want), tc.arch, len(got))
			}
		})
	}
}

// The trampoline blocks on the FIFO until a reader opens it, writes "0",
// closes the FIFO's O_PATH fd and executes the program; a failed execve
// is written after the "0" as the step's name, the path, NUL and errno.
func TestTrampolineWaitsThenExecs(t *testing.T) {
	if !HasTrampoline() {
		t.Skipf("no trampoline for %s", runtime.GOARCH)
	}
	tr, err := Trampoline()
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var st unix.Stat_t
	if err := unix.Fstat(int(tr.Fd()), &st); err != nil || st.Size != int64(len(trampolineELF)) {
		t.Fatalf("fstat: %v, size %d", err, st.Size)
	}
	if _, err := tr.Write([]byte("x")); err == nil {
		t.Errorf("the sealed trampoline took a write")
	}
	run := func(prog string, args ...string) (fifoData, stdout string) {
		t.Helper()
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := unix.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
		path, err := os.OpenFile(fifo, unix.O_PATH, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer path.Close()
		var out bytes.Buffer
		cmd := &exec.Cmd{Path: "/proc/self/fd/3", ExtraFiles: []*os.File{tr, path}, Stdout: &out,
			Args: append([]string{"ctr-lite-exec", "/proc/self/fd/4", `execve "`, prog}, args...)}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		r, err := os.Open(fifo) // the trampoline's open returns now
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		cmd.Wait()
		return string(b), out.String()
	}
	// The program has neither end of the FIFO open.
	if got, out := run("/bin/sh", "sh", "-c", "for f in /proc/self/fd/*; do readlink $f; done | grep -c fifo; echo $0", "zero"); got != "0" || out != "0\nzero\n" {
		t.Errorf("fifo got %q, stdout %q; want \"0\", and no FIFO fd in the program", got, out)
	}
	want := "0" + `execve "/no/such/program` + "\x00" + string(rune(unix.ENOENT))
	if got, _ := run("/no/such/program", "x"); got != want {
		t.Errorf("fifo got %q, want %q", got, want)
	}
}
