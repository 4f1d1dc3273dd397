package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fleet is many containers of one bundle under one --root, made and
// removed by several commands at a time, as an orchestrator does.
type fleet struct {
	tb     testing.TB
	bin    string // the binary (the rootless tests run a copy)
	root   string // --root
	bundle string
	ids    []string // every ID ever created, for the leftover check
	pids   []int    // every init seen, for the leftover check
	mu     sync.Mutex
}

// runFile runs the binary with args, stdout and stderr to a file (a
// detached container keeps them: a pipe's reader would wait for it).
func (f *fleet) runFile(dir string, args ...string) error {
	out, err := os.CreateTemp(dir, "out")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	c := exec.Command(f.bin, append([]string{"--root", f.root}, args...)...)
	c.Stdout, c.Stderr = out, out
	if err := c.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		return fmt.Errorf("ctr-lite %s: %w\n%s", strings.Join(args, " "), err, data)
	}
	return nil
}

// each runs op on ids with `workers` commands at a time and returns
// every failure.
func (f *fleet) each(ids []string, workers int, op func(id string) error) error {
	work := make(chan string)
	errc := make(chan error, len(ids))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := op(id); err != nil {
					errc <- err
				}
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// runDetached starts each of ids (`run --detach`), `workers` at a time.
func (f *fleet) runDetached(ids []string, workers int) error {
	f.mu.Lock()
	f.ids = append(f.ids, ids...)
	f.mu.Unlock()
	dir := f.tb.TempDir()
	return f.each(ids, workers, func(id string) error {
		return f.runFile(dir, "run", "--detach", "--bundle", f.bundle, id)
	})
}

// deleteAll force-deletes each of ids, `workers` at a time.
func (f *fleet) deleteAll(ids []string, workers int) error {
	dir := f.tb.TempDir()
	return f.each(ids, workers, func(id string) error { return f.runFile(dir, "delete", "--force", id) })
}

// list is `list --format json`, parsed; it records the inits it shows.
func (f *fleet) list() ([]stateJSON, error) {
	c := exec.Command(f.bin, "--root", f.root, "list", "--format", "json")
	out, err := c.Output()
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	var reps []stateJSON
	if err := json.Unmarshal(out, &reps); err != nil {
		return nil, fmt.Errorf("list: %w\n%s", err, out)
	}
	for _, r := range reps {
		if r.Pid > 0 {
			f.pids = append(f.pids, r.Pid)
		}
	}
	return reps, nil
}

// leftovers: state directories, cgroups named after the IDs, live inits,
// mounts under the bundle.
func (f *fleet) leftovers() []string {
	var left []string
	ents, _ := os.ReadDir(f.root)
	for _, e := range ents {
		left = append(left, "state "+filepath.Join(f.root, e.Name()))
	}
	// ownCgroupDirs per ID globs every hierarchy: with 1,000 IDs each
	// parent directory is read once instead.
	ids := map[string]bool{}
	for _, id := range f.ids {
		ids[id] = true
	}
	for _, p := range ownCgroupParents() {
		ents, _ := os.ReadDir(p)
		for _, e := range ents {
			if e.IsDir() && ids[e.Name()] {
				left = append(left, "cgroup "+filepath.Join(p, e.Name()))
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range f.pids {
		for alive(pid) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			left = append(left, fmt.Sprint("process ", pid))
		}
	}
	data, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(data), "\n") {
		if fs := strings.Fields(line); len(fs) > 4 && strings.HasPrefix(fs[4], f.bundle+"/") {
			left = append(left, "mount "+fs[4])
		}
	}
	return left
}

// ownCgroupParents are the directories in which ownCgroupDirs looks for
// a relative path.
func ownCgroupParents() []string {
	data, _ := os.ReadFile("/proc/self/cgroup")
	var found []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		cands, _ := filepath.Glob("/sys/fs/cgroup/*" + f[2])
		cands = append(cands, filepath.Join("/sys/fs/cgroup", f[2]), filepath.Join("/sys/fs/cgroup", filepath.Dir(f[2])))
		for _, d := range cands {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(found, d) {
				found = append(found, d)
			}
		}
	}
	return found
}

// cleanup force-deletes whatever is left (a failed test), then removes
// the cgroups the IDs would have.
func (f *fleet) cleanup() {
	ents, _ := os.ReadDir(f.root)
	var ids []string
	for _, e := range ents {
		ids = append(ids, e.Name())
	}
	f.deleteAll(ids, 4)
	for _, l := range f.leftovers() {
		if d, ok := strings.CutPrefix(l, "cgroup "); ok {
			os.Remove(d)
		}
	}
}

// newFleet makes a bundle running `sleep` (no terminal, no network
// namespace, no cgroup path: each container's cgroup is its ID) and an
// empty --root.
func newFleet(tb testing.TB, bundle string) *fleet {
	f := &fleet{tb: tb, bin: binary, root: filepath.Join(tb.TempDir(), "state"), bundle: bundle}
	tb.Cleanup(f.cleanup)
	return f
}

// sleepBundle is a bundle made by `ctr-lite spec` that runs sleep with no
// terminal, no network namespace and the default cgroup (the ID).
func sleepBundle(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	script, _ := filepath.Abs("../testdata/mkrootfs.sh")
	if p := os.Getenv("CTR_LITE_TESTDATA"); p != "" {
		script = filepath.Join(p, "mkrootfs.sh")
	}
	if out, err := exec.Command("sh", script, filepath.Join(dir, "rootfs")).CombinedOutput(); err != nil {
		tb.Fatalf("mkrootfs: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary, "spec", "--bundle", dir).CombinedOutput(); err != nil {
		tb.Fatalf("spec: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		tb.Fatal(err)
	}
	proc := s["process"].(map[string]any)
	proc["terminal"], proc["args"] = false, []string{"sleep", "1000000"}
	linux := s["linux"].(map[string]any)
	var ns []any
	for _, n := range linux["namespaces"].([]any) {
		if n.(map[string]any)["type"] != "network" {
			ns = append(ns, n)
		}
	}
	linux["namespaces"] = ns
	data, _ = json.MarshalIndent(s, "", "\t")
	if err := os.WriteFile(cfg, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// manyIDs is n IDs with a prefix of this test run.
func manyIDs(tag string, from, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("m%d-%s-%04d", os.Getpid(), tag, from+i)
	}
	return ids
}

// An orchestrator starts 100 containers, ten commands at a time: none
// fails, list shows exactly those, each running with its own init; it
// then deletes them all, ten at a time, and nothing is left (state,
// cgroups, processes, mounts). CTR_LITE_MANY sets the count; the
// emulated CI VM (CTR_VM=1) runs 30: 100 took three minutes there.
func TestOrchestratorRunsHundredContainersTenAtATime(t *testing.T) {
	requireRoot(t)
	n := 100
	if os.Getenv("CTR_VM") == "1" {
		n = 30
	}
	if v := os.Getenv("CTR_LITE_MANY"); v != "" {
		fmt.Sscan(v, &n)
	}
	f := newFleet(t, sleepBundle(t))
	ids := manyIDs("t", 0, n)
	start := time.Now()
	if err := f.runDetached(ids, 10); err != nil {
		t.Fatalf("run of %d containers, 10 at a time:\n%v", n, err)
	}
	t.Logf("%d containers run in %v", n, time.Since(start).Round(time.Millisecond))
	reps, err := f.list()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	pids := map[int]bool{}
	for _, r := range reps {
		got = append(got, r.ID)
		if r.Status != "running" || r.Pid <= 0 || pids[r.Pid] || r.Bundle != f.bundle {
			t.Errorf("list: %s is %s with pid %d, bundle %s", r.ID, r.Status, r.Pid, r.Bundle)
		}
		pids[r.Pid] = true
	}
	if !slices.Equal(got, ids) {
		t.Errorf("list shows %d containers %v, want the %d run", len(got), got, len(ids))
	}
	out, err := exec.Command(binary, "--root", f.root, "list", "-q").Output()
	if err != nil || strings.Join(strings.Fields(string(out)), " ") != strings.Join(ids, " ") {
		t.Errorf("list -q: %v\n%s", err, out)
	}
	start = time.Now()
	if err := f.deleteAll(ids, 10); err != nil {
		t.Fatalf("delete of %d containers, 10 at a time:\n%v", n, err)
	}
	t.Logf("%d containers deleted in %v", n, time.Since(start).Round(time.Millisecond))
	if left := f.leftovers(); len(left) > 0 {
		t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}
