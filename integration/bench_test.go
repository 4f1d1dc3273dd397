package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The benchmarks time what a user or an orchestrator waits for: one
// invocation of the binary, end to end, as ../shared/bench/startup.sh
// does. Each also reports the peak RSS of the runtime's processes
// (getrusage RUSAGE_CHILDREN of the invocation: the largest of the
// runtime and the children it waited for). `make bench` runs them.

// benchBundle makes a busybox bundle with `ctr-lite spec`, edited for
// /bin/true without a terminal (what startup.sh's mkbundle.sh makes).
func benchBundle(b *testing.B, args ...string) string {
	b.Helper()
	dir := b.TempDir()
	out, err := exec.Command("sh", "../testdata/mkrootfs.sh", filepath.Join(dir, "rootfs")).CombinedOutput()
	if err != nil {
		b.Fatalf("mkrootfs: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary, "spec", "--bundle", dir).CombinedOutput(); err != nil {
		b.Fatalf("spec: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	s := strings.Replace(string(data), `"terminal": true`, `"terminal": false`, 1)
	s = strings.Replace(s, "\t\t\t\"sh\"\n", "\t\t\t"+strings.Join(quoted, ", ")+"\n", 1)
	if err := os.WriteFile(cfg, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
	return dir
}

// runTimed runs the binary once and returns its peak RSS in KiB. Its
// output goes to a file, not a pipe: a created container keeps the
// caller's stdio, and a reader of a pipe would wait for it.
func runTimed(b *testing.B, args ...string) int64 {
	b.Helper()
	out, err := os.CreateTemp(b.TempDir(), "out")
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		b.Fatalf("ctr-lite %s: %v\n%s", strings.Join(args, " "), err, data)
	}
	return int64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
}

func benchLoop(b *testing.B, op func(i int) int64) {
	var peak int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if rss := op(i); rss > peak {
			peak = rss
		}
	}
	b.ReportMetric(float64(peak), "peak-RSS-KiB")
}

func BenchmarkVersion(b *testing.B) {
	benchLoop(b, func(int) int64 { return runTimed(b, "--version") })
}

func BenchmarkRunTrue(b *testing.B) {
	requireRootB(b)
	bundle, root := benchBundle(b, "/bin/true"), b.TempDir()
	benchLoop(b, func(i int) int64 {
		return runTimed(b, "--root", root, "run", "--bundle", bundle, fmt.Sprintf("bench-run-%d-%d", os.Getpid(), i))
	})
}

func BenchmarkCreateStartDelete(b *testing.B) {
	requireRootB(b)
	bundle, root := benchBundle(b, "/bin/true"), b.TempDir()
	benchLoop(b, func(i int) int64 {
		id := fmt.Sprintf("bench-cycle-%d-%d", os.Getpid(), i)
		rss := runTimed(b, "--root", root, "create", "--bundle", bundle, id)
		runTimed(b, "--root", root, "start", id)
		runTimed(b, "--root", root, "delete", "--force", id)
		return rss
	})
}

// withSleeper runs op against one running `sleep` container.
func withSleeper(b *testing.B, op func(root, id string) int64) {
	requireRootB(b)
	bundle, root := benchBundle(b, "/bin/sleep", "1000000"), b.TempDir()
	id := fmt.Sprintf("bench-sleeper-%d", os.Getpid())
	runTimed(b, "--root", root, "run", "--detach", "--bundle", bundle, id)
	b.Cleanup(func() { exec.Command(binary, "--root", root, "delete", "--force", id).Run() })
	benchLoop(b, func(int) int64 { return op(root, id) })
}

func BenchmarkExec(b *testing.B) {
	withSleeper(b, func(root, id string) int64 { return runTimed(b, "--root", root, "exec", id, "/bin/true") })
}

func BenchmarkState(b *testing.B) {
	withSleeper(b, func(root, id string) int64 { return runTimed(b, "--root", root, "state", id) })
}

func BenchmarkList(b *testing.B) {
	withSleeper(b, func(root, _ string) int64 { return runTimed(b, "--root", root, "list") })
}

func requireRootB(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
}
