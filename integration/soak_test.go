package integration

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// soakCycles is how many cycles TestOrchestratorSoaksLifecycleWithFailures
// runs: a few in CI, CTR_LITE_SOAK=1000 by hand.
func soakCycles(t *testing.T) int {
	if v := os.Getenv("CTR_LITE_SOAK"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CTR_LITE_SOAK=%q: want a positive count", v)
		}
		return n
	}
	return 25
}

// soak drives one bundle's containers and remembers what it started.
type soak struct {
	t      *testing.T
	b      *bundle
	log    *os.File // every command's stdout and stderr, for a failure
	mu     sync.Mutex
	pids   []int
	starts []string
}

// run runs ctr-lite --root ROOT args, SIGKILLing it (and seeing what it
// started) after killAfter if that is positive; it returns the exit code
// (-1: killed).
func (s *soak) run(killAfter time.Duration, args ...string) int {
	cmd := exec.Command(binary, s.b.args(args...)...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	if killAfter > 0 {
		timer := time.AfterFunc(killAfter, func() {
			s.remember(descendants(cmd.Process.Pid)...)
			cmd.Process.Kill()
		})
		defer timer.Stop()
	}
	cmd.Wait()
	return cmd.ProcessState.ExitCode()
}

// remember keeps pids with their start times: over a long run pid_max
// wraps and a pid comes back as some other process.
func (s *soak) remember(pids ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range pids {
		if st := startTime(p); st != "" {
			s.pids = append(s.pids, p)
			s.starts = append(s.starts, st)
		}
	}
}

// startTime is field 22 of /proc/PID/stat, "" if pid is gone.
func startTime(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// must runs a command that must succeed.
func (s *soak) must(args ...string) {
	s.t.Helper()
	if code := s.run(0, args...); code != 0 {
		s.t.Fatalf("ctr-lite %s: exit %d (see %s)", strings.Join(args, " "), code, s.log.Name())
	}
}

// badBundles are bundles on b's rootfs whose config fails at different
// stages: JSON, validation, the init's mounts, the exec of the program,
// a createRuntime hook.
func badBundles(t *testing.T, b *bundle) []string {
	t.Helper()
	rootfs := filepath.Join(b.dir, "rootfs")
	bad := map[string]func(s *specs.Spec){
		"cwd":    func(s *specs.Spec) { s.Process.Cwd = "relative" },
		"binary": func(s *specs.Spec) { s.Process.Args = []string{"/nonexistent/program"} },
		"sysctl": func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"kernel.no_such_sysctl": "1"} },
		"mountopt": func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/x", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=bogus"}})
		},
		"hook": func(s *specs.Spec) { s.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/false"}}} },
		"json": nil,
	}
	var dirs []string
	for name, spoil := range bad {
		dir := filepath.Join(t.TempDir(), name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data := []byte(`{"ociVersion": "1.0.2", "process": `)
		if spoil != nil {
			var s specs.Spec
			orig, _ := json.Marshal(b.spec)
			json.Unmarshal(orig, &s)
			s.Root.Path = rootfs
			spoil(&s)
			data, _ = json.Marshal(&s)
		}
		if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, dir)
	}
	return dirs
}

// TestOrchestratorSoaksLifecycleWithFailures runs create/start/exec/delete
// cycles with failures mixed in at random: bad configs, commands
// SIGKILLed at random moments, concurrent commands on one ID. Afterwards
// nothing may be left: state directories, cgroups, processes, mounts,
// session keyrings, and none of our file descriptors. CTR_LITE_SOAK sets
// the number of cycles, CTR_LITE_SOAK_SEED the random seed.
func TestOrchestratorSoaksLifecycleWithFailures(t *testing.T) {
	n := soakCycles(t)
	seed := time.Now().UnixNano()
	if v := os.Getenv("CTR_LITE_SOAK_SEED"); v != "" {
		seed, _ = strconv.ParseInt(v, 10, 64)
	}
	t.Logf("%d cycles, seed %d (CTR_LITE_SOAK_SEED)", n, seed)
	rng := rand.New(rand.NewSource(seed))

	b := newBundle(t, "soak", "sleep", "1000")
	b.spec.Linux.CgroupsPath = "" // runc's default: a cgroup per ID
	b.write()
	bad := badBundles(t, b)
	logf, err := os.Create(filepath.Join(t.TempDir(), "commands.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	s := &soak{t: t, b: b, log: logf}
	fdsBefore := len(dirEntries(t, "/proc/self/fd"))
	prefix := fmt.Sprintf("soak%d-", os.Getpid())
	counts := map[string]int{}
	start := time.Now()

	for i := 0; i < n; i++ {
		id := b.track(prefix + strconv.Itoa(i))
		kill := func() time.Duration { return time.Duration(1+rng.Intn(400)) * time.Millisecond }
		switch op := rng.Intn(6); op {
		case 0: // the whole lifecycle
			counts["lifecycle"]++
			s.must("create", "--bundle", b.dir, id)
			s.must("start", id)
			s.must("exec", id, "true")
			s.must("exec", "--detach", id, "sleep", "1000")
			s.remember(b.state(id).Pid)
			s.must("kill", id, "KILL")
			s.must("delete", "--force", id)
		case 1: // a bad config
			counts["bad config"]++
			dir := bad[rng.Intn(len(bad))]
			if code := s.run(0, "create", "--bundle", dir, id); code == 0 {
				t.Fatalf("create with %s succeeded", dir)
			}
			if _, err := os.Stat(filepath.Join(b.root, id)); err == nil {
				t.Errorf("create with %s failed but left its state", dir)
			}
		case 2: // create killed
			counts["create killed"]++
			s.run(kill(), "create", "--bundle", b.dir, id)
			s.run(0, "delete", "--force", id)
		case 3: // run killed, then delete killed, then delete
			counts["run and delete killed"]++
			s.run(kill(), "run", "--bundle", b.dir, id)
			s.run(kill()/4, "delete", "--force", id)
			s.run(0, "delete", "--force", id)
		case 4: // exec killed
			counts["exec killed"]++
			s.must("run", "--detach", "--bundle", b.dir, id)
			s.remember(b.state(id).Pid)
			for k := 0; k < 3; k++ {
				s.run(kill()/2, "exec", id, "sleep", "1000")
			}
			s.must("delete", "--force", id)
		case 5: // concurrent commands on one ID
			counts["concurrent"]++
			var wg sync.WaitGroup
			for _, args := range [][]string{
				{"create", "--bundle", b.dir, id}, {"run", "--detach", "--bundle", b.dir, id},
				{"start", id}, {"exec", "--detach", id, "sleep", "1000"}, {"kill", id, "KILL"},
				{"delete", "--force", id}, {"state", id}, {"pause", id}, {"resume", id},
			} {
				wg.Add(1)
				go func(args []string, after time.Duration) {
					defer wg.Done()
					time.Sleep(after)
					s.run(0, args...)
				}(args, time.Duration(rng.Intn(50))*time.Millisecond)
			}
			// An exec whose init was placed in the cgroup just as a
			// pause froze it waits until resume, as in runc: keep
			// resuming until every command has returned.
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			for waiting := true; waiting; {
				select {
				case <-done:
					waiting = false
				case <-time.After(500 * time.Millisecond):
					s.run(0, "resume", id)
				}
			}
			s.run(0, "resume", id)
			s.run(0, "delete", "--force", id)
		}
		if _, err := os.Stat(filepath.Join(b.root, id)); err == nil {
			data, _ := os.ReadFile(logf.Name())
			t.Fatalf("cycle %d: %s is still there after delete --force; the commands said:\n%s", i, id, data[max(0, len(data)-3000):])
		}
	}

	b.pids = nil // b.state's, without start times; s.pids has them
	for i, p := range s.pids {
		if startTime(p) == s.starts[i] {
			b.pids = append(b.pids, p)
		}
	}
	leaks := soakLeaks(t, b, prefix)
	leaks["fds"] = len(dirEntries(t, "/proc/self/fd")) - fdsBefore
	t.Logf("%d cycles in %v: %v; leaked: %v", n, time.Since(start).Round(time.Second), counts, leaks)
	for what, k := range leaks {
		if k != 0 {
			t.Errorf("leaked %d %s", k, what)
		}
	}
}

// soakLeaks counts what the soak's containers left: state directories,
// cgroup directories, processes (those it saw, and any running in its
// rootfs or, as an init, from its working directory), mounts under the
// bundle or the state root, and session keyrings (_ses.ID in /proc/keys;
// the kernel collects an unused one soon after its last process ends).
func soakLeaks(t *testing.T, b *bundle, prefix string) map[string]int {
	t.Helper()
	leaks := map[string]int{"states": 0, "cgroups": 0, "processes": 0, "mounts": 0, "keyrings": 0}
	for _, l := range b.leftovers() {
		t.Logf("left: %s", l)
		leaks[map[string]string{"state": "states", "cgroup": "cgroups", "process": "processes", "mount": "mounts"}[strings.Fields(l)[0]]]++
	}
	cwd, _ := os.Getwd()
	rootfs := filepath.Join(b.dir, "rootfs")
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		root, _ := os.Readlink("/proc/" + e.Name() + "/root")
		dir, _ := os.Readlink("/proc/" + e.Name() + "/cwd")
		env, _ := os.ReadFile("/proc/" + e.Name() + "/environ")
		if root == rootfs || (dir == cwd && strings.Contains(string(env), "_CTR_LITE_INIT=")) {
			t.Logf("left: process %d (%s)", pid, cmdline(pid))
			leaks["processes"]++
		}
	}
	for _, m := range mountsUnder(t, b.root) {
		t.Logf("left: mount %s", m)
		leaks["mounts"]++
	}
	keys := func() int {
		data, _ := os.ReadFile("/proc/keys")
		return strings.Count(string(data), "_ses."+prefix)
	}
	for deadline := time.Now().Add(10 * time.Second); keys() > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	leaks["keyrings"] = keys()
	return leaks
}
