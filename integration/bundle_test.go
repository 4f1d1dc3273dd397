package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// bundle is one OCI bundle (a fresh busybox rootfs and a config.json made
// by `ctr-lite spec`) plus a private --root for its containers' state.
// Cleanup checks that nothing is left behind (state, cgroup, process,
// mount), then force-deletes whatever a failed test left.
type bundle struct {
	t    *testing.T
	dir  string // the bundle: config.json and rootfs/
	root string // --root
	id   string // the container ID most tests use
	spec *specs.Spec
	ids  map[string]bool // every ID created, for the leftover check
	pids []int           // every container process seen, for the leftover check
}

// newBundle makes a bundle whose process runs args with no terminal and
// whose cgroup is /ctr-lite-test-<pid>-<name>.
func newBundle(t *testing.T, name string, args ...string) *bundle {
	t.Helper()
	requireRoot(t)
	dir := filepath.Dir(newRootfs(t))
	mustCtrLite(t, "spec", "--bundle", dir)
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatalf("spec wrote invalid JSON: %v", err)
	}
	s.Process.Terminal = false
	s.Process.Args = args
	s.Linux.CgroupsPath = fmt.Sprintf("/ctr-lite-test-%d-%s", os.Getpid(), name)
	b := &bundle{t: t, dir: dir, root: filepath.Join(t.TempDir(), "state"), spec: &s,
		id: fmt.Sprintf("lc%d-%s", os.Getpid(), name), ids: map[string]bool{}}
	b.track(b.id)
	b.write()
	t.Cleanup(b.cleanup)
	return b
}

// write saves b.spec as config.json.
func (b *bundle) write() {
	b.t.Helper()
	data, err := json.MarshalIndent(b.spec, "", "\t")
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, "config.json"), data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// hostDir bind-mounts a fresh host directory read-write at dest in the
// container and returns its host path.
func (b *bundle) hostDir(dest string) string {
	b.t.Helper()
	d := b.t.TempDir()
	os.Chmod(d, 0o777)
	b.spec.Mounts = append(b.spec.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: d,
		Options: []string{"rbind", "rw"}})
	b.write()
	return d
}

// args prefixes --root.
func (b *bundle) args(args ...string) []string {
	return append([]string{"--root", b.root}, args...)
}

// track adds id to the containers the leftover check looks for.
func (b *bundle) track(id string) string {
	b.ids[id] = true
	return id
}

// ctr runs ctr-lite --root ROOT args; stdout and stderr are pipes, so only
// for commands that leave no process holding them (not create, run -d).
func (b *bundle) ctr(args ...string) result {
	b.t.Helper()
	return ctrLite(b.t, b.args(args...)...)
}

func (b *bundle) must(args ...string) result {
	b.t.Helper()
	return mustCtrLite(b.t, b.args(args...)...)
}

func (b *bundle) fail(args []string, want ...string) result {
	b.t.Helper()
	return wantFail(b.t, b.args(args...), want...)
}

// detached runs a command that leaves the container running with our
// stdio (create, run -d, exec -d): its stdout and stderr are files, not
// pipes, so the call returns when ctr-lite does, not when the container's
// last holder of the pipe exits. extra become fds 3, 4, ...
func (b *bundle) detached(extra []*os.File, args ...string) result {
	b.t.Helper()
	dir := b.t.TempDir()
	out, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		b.t.Fatal(err)
	}
	defer out.Close()
	errf, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		b.t.Fatal(err)
	}
	defer errf.Close()
	cmd := exec.Command(binary, b.args(args...)...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = out, errf, extra
	err = cmd.Run()
	var r result
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		b.t.Fatalf("run %v: %v", args, err)
	}
	o, _ := os.ReadFile(out.Name())
	e, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(o), string(e)
	return r
}

// mustDetached is detached that must exit 0.
func (b *bundle) mustDetached(args ...string) result {
	b.t.Helper()
	r := b.detached(nil, args...)
	if r.code != 0 {
		b.t.Fatalf("ctr-lite %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// state is `ctr-lite state ID`, parsed.
func (b *bundle) state(id string) stateJSON {
	b.t.Helper()
	r := b.must("state", id)
	var s stateJSON
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		b.t.Fatalf("state %s: %v\n%s", id, err, r.stdout)
	}
	if s.Pid > 0 {
		b.pids = append(b.pids, s.Pid)
	}
	return s
}

// stateJSON is runc's `state` output.
type stateJSON struct {
	Version string    `json:"ociVersion"`
	ID      string    `json:"id"`
	Pid     int       `json:"pid"`
	Status  string    `json:"status"`
	Bundle  string    `json:"bundle"`
	Rootfs  string    `json:"rootfs"`
	Created time.Time `json:"created"`
	Owner   string    `json:"owner"`
}

// waitStatus polls state until it shows want (a container's program
// finishing on its own); the deadline only avoids hanging.
func (b *bundle) waitStatus(id, want string) stateJSON {
	b.t.Helper()
	var s stateJSON
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s = b.state(id); s.Status == want {
			return s
		}
	}
	b.t.Fatalf("container %s is %q, never became %q", id, s.Status, want)
	return s
}

// waitFile waits until path exists with content (written by the container)
// and returns it; the deadline only avoids hanging.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if data, err := os.ReadFile(path); err == nil && len(data) > 0 && strings.HasSuffix(string(data), "\n") {
			return string(data)
		}
	}
	t.Fatalf("%s never appeared", path)
	return ""
}

// ownCgroupDirs lists the directories a container's cgroup with a
// relative path (the default is its ID) would have, from /proc/self/cgroup,
// that exist: relative to the runtime's own cgroup in each v1 hierarchy,
// to its parent on v2, as runc does.
func ownCgroupDirs(rel string) []string {
	data, _ := os.ReadFile("/proc/self/cgroup")
	var found []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		cands, _ := filepath.Glob("/sys/fs/cgroup/*" + filepath.Join(f[2], rel))
		cands = append(cands, filepath.Join("/sys/fs/cgroup", f[2], rel), filepath.Join("/sys/fs/cgroup", filepath.Dir(f[2]), rel))
		for _, d := range cands {
			if fi, err := os.Stat(d); err == nil && fi.IsDir() && !slices.Contains(found, d) {
				found = append(found, d)
			}
		}
	}
	return found
}

// alive tells whether pid runs (a zombie is not running).
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// leftovers lists what the containers left: state directories, cgroup
// directories, processes, mounts under the bundle.
func (b *bundle) leftovers() []string {
	var left []string
	if ents, err := os.ReadDir(b.root); err == nil {
		for _, e := range ents {
			left = append(left, "state "+filepath.Join(b.root, e.Name()))
		}
	}
	if p := b.spec.Linux.CgroupsPath; filepath.IsAbs(p) {
		for _, d := range cgDirs(p) {
			left = append(left, "cgroup "+d)
		}
	} else if p != "" {
		for _, d := range ownCgroupDirs(filepath.Clean("/" + p)[1:]) {
			left = append(left, "cgroup "+d)
		}
	}
	for id := range b.ids {
		if err := validID(id); err != nil {
			continue
		}
		for _, d := range ownCgroupDirs(id) {
			left = append(left, "cgroup "+d)
		}
	}
	for _, pid := range b.pids {
		// The init is reparented to pid 1 when create exits: give
		// it a moment to reap. The deadline only avoids hanging.
		for deadline := time.Now().Add(5 * time.Second); alive(pid) && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(pid) {
			left = append(left, "process "+strconv.Itoa(pid))
		}
	}
	for _, m := range mountsUnder(b.t, b.dir) {
		left = append(left, "mount "+m)
	}
	return left
}

// validID is a plain ID (no path): only those are looked for as cgroups.
func validID(id string) error {
	if id == "" || len(id) > 64 || strings.ContainsAny(id, "/") || id == "." || id == ".." {
		return errors.New("not a plain ID")
	}
	return nil
}

// wantNothingLeft fails the test if anything is left behind.
func (b *bundle) wantNothingLeft() {
	b.t.Helper()
	if left := b.leftovers(); len(left) > 0 {
		b.t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
	}
}

func (b *bundle) cleanup() {
	if !b.t.Failed() {
		b.wantNothingLeft()
	}
	for id := range b.ids {
		if validID(id) == nil {
			ctrLite(b.t, "--root", b.root, "delete", "--force", id)
		}
	}
	for _, pid := range b.pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if p := b.spec.Linux.CgroupsPath; p != "" {
		ctrLite(b.t, "cgroup", "delete", "--kill", p)
	}
	for id := range b.ids {
		if validID(id) == nil {
			for _, d := range ownCgroupDirs(id) {
				os.Remove(d)
			}
		}
	}
}
