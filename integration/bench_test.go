package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
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

// runTimedCPU is runTimed that also returns the CPU time (user+system)
// of the command and the children it waited for.
func runTimedCPU(b *testing.B, args ...string) (int64, time.Duration) {
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
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return int64(ru.Maxrss), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
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

// BenchmarkManyContainers: one host with many containers (1,000, or
// CTR_LITE_BENCH_MANY), each a running busybox sleep made by `run
// --detach`, ten commands at a time:
//   - run/10-at-a-time: one container's `run -d` among ten running
//     commands (wall time per container); any failure fails the benchmark;
//   - list/1 and list/N: `list` with one container and with all of them;
//     list/N reports x-list-1, its time over list/1's (target <= 2);
//   - state/among-1 and state/among-N: `state` of one container; the
//     second reports x-among-1 (target about 1);
//   - each of those also reports cpu-ns/op, the command's CPU time
//     (user+system), and its ratio (x-list-1-cpu, x-among-1-cpu): on a
//     shared machine the wall time is mostly waiting for a CPU;
//   - delete/N: `delete --force` of one container among ten running
//     commands; the rest are deleted after it, and the benchmark fails
//     if any state directory, cgroup, process or mount is left.
func BenchmarkManyContainers(b *testing.B) {
	requireRootB(b)
	n := 1000
	if v := os.Getenv("CTR_LITE_BENCH_MANY"); v != "" {
		fmt.Sscan(v, &n)
	}
	bundle := sleepBundle(b)
	one, many := newFleet(b, bundle), newFleet(b, bundle)
	if err := one.runDetached(manyIDs("one", 0, 1), 1); err != nil {
		b.Fatal(err)
	}
	made := 0
	b.Run("run/10-at-a-time", func(b *testing.B) {
		ids := manyIDs("b", made, b.N)
		made += b.N
		b.ResetTimer()
		if err := many.runDetached(ids, 10); err != nil {
			b.Fatal(err)
		}
	})
	if made < n {
		if err := many.runDetached(manyIDs("b", made, n-made), 10); err != nil {
			b.Fatal(err)
		}
	}
	reps, err := many.list()
	if err != nil || len(reps) != max(n, made) {
		b.Fatalf("list shows %d containers, want %d (%v)", len(reps), max(n, made), err)
	}
	target := reps[len(reps)/2].ID
	// Wall time on a shared machine is mostly waiting for a CPU: each
	// also reports the CPU time (user+system) of the command, and both
	// ratios.
	perOp, cpuOp := map[string]float64{}, map[string]float64{}
	timed := func(name, base, unit string, args func() []string) {
		b.Run(name, func(b *testing.B) {
			var cpu time.Duration
			benchLoop(b, func(int) int64 {
				rss, c := runTimedCPU(b, args()...)
				cpu += c
				return rss
			})
			perOp[name] = float64(b.Elapsed()) / float64(b.N)
			cpuOp[name] = float64(cpu) / float64(b.N)
			b.ReportMetric(cpuOp[name], "cpu-ns/op")
			if base != "" && perOp[base] > 0 {
				b.ReportMetric(perOp[name]/perOp[base], unit)
				b.ReportMetric(cpuOp[name]/cpuOp[base], unit+"-cpu")
			}
		})
	}
	timed("list/1", "", "", func() []string { return []string{"--root", one.root, "list"} })
	timed(fmt.Sprintf("list/%d", len(reps)), "list/1", "x-list-1", func() []string { return []string{"--root", many.root, "list"} })
	timed("state/among-1", "", "", func() []string { return []string{"--root", one.root, "state", one.ids[0]} })
	timed(fmt.Sprintf("state/among-%d", len(reps)), "state/among-1", "x-among-1", func() []string { return []string{"--root", many.root, "state", target} })
	var all []string
	for _, r := range reps {
		all = append(all, r.ID)
	}
	b.Run(fmt.Sprintf("delete/%d", len(all)), func(b *testing.B) {
		ids := all[:min(b.N, len(all))]
		b.ResetTimer()
		if err := many.deleteAll(ids, 10); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if b.N > len(all) {
			b.Fatalf("only %d containers to delete, b.N is %d", len(all), b.N)
		}
		all = all[len(ids):]
	})
	if err := many.deleteAll(all, 10); err != nil {
		b.Fatal(err)
	}
	if err := one.deleteAll(one.ids, 1); err != nil {
		b.Fatal(err)
	}
	for _, f := range []*fleet{one, many} {
		if left := f.leftovers(); len(left) > 0 {
			b.Fatalf("left behind:\n%s", strings.Join(left, "\n"))
		}
	}
}
