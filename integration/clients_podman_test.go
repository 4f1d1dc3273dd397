package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// podmanEnv is podman with a private containers.conf, storage and event
// log, ctr-lite (through runtimeWrapper) as its runtime, the cgroupfs
// manager (no systemd here) and a private cgroup parent. ctr-lite keeps its
// state in its default root, /run/ctr-lite: podman passes no --root, and
// conmon's cleanup command would not carry one (BASELINE.md item 3).
type podmanEnv struct {
	dir    string
	env    []string
	parent string // cgroup parent, e.g. /ctr-lite-podman-1a2b3c4d
	image  string
	runRun []string // flags every `podman run` needs on these machines
}

func newPodman(t *testing.T) *podmanEnv {
	t.Helper()
	requireClients(t, "podman", "conmon", "script")
	dir := clientDir(t, "ctr-lite-podman-")
	p := &podmanEnv{
		dir:    dir,
		parent: "/ctr-lite-podman-" + tag(t),
		image:  "localhost/ctr-lite-busybox:latest",
	}
	wrapper := runtimeWrapper(t, dir)
	conf := fmt.Sprintf(`[containers]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = %q
lock_type = "file"
tmp_dir = %q
runtime = "ctr-lite"
runtime_supports_json = ["ctr-lite"]
[engine.runtimes]
ctr-lite = [%q]
[network]
network_config_dir = %q
`, filepath.Join(dir, "events.log"), filepath.Join(dir, "tmp"), wrapper, filepath.Join(dir, "net"))
	storage := fmt.Sprintf("[storage]\ndriver = \"vfs\"\nrunroot = %q\ngraphroot = %q\n",
		filepath.Join(dir, "runroot"), filepath.Join(dir, "graph"))
	for name, data := range map[string]string{
		"containers.conf": conf,
		"storage.conf":    storage,
		"registries.conf": "unqualified-search-registries = []\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.env = []string{
		"CONTAINERS_CONF=" + filepath.Join(dir, "containers.conf"),
		"CONTAINERS_STORAGE_CONF=" + filepath.Join(dir, "storage.conf"),
		"CONTAINERS_REGISTRIES_CONF=" + filepath.Join(dir, "registries.conf"),
	}
	p.runRun = []string{"--network", "none", "--cgroup-parent", p.parent}
	if lacksSysResource(t) {
		// podman's default rlimits for root (1048576) cannot be set without
		// CAP_SYS_RESOURCE; podman caps its own nproc at pid_max.
		var nofile, nproc unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
		unix.Getrlimit(unix.RLIMIT_NPROC, &nproc)
		n := nproc.Max
		if max, err := strconv.ParseUint(readTrim(t, "/proc/sys/kernel/pid_max"), 10, 64); err == nil && max < n {
			n = max
		}
		p.runRun = append(p.runRun,
			"--ulimit", fmt.Sprintf("nofile=%d:%d", nofile.Max, nofile.Max),
			"--ulimit", fmt.Sprintf("nproc=%d:%d", n, n))
	}
	t.Cleanup(func() { p.cleanup(t) })

	tarball := filepath.Join(dir, "rootfs.tar")
	rootfsTar(t, newRootfs(t), tarball)
	p.must(t, "import", tarball, p.image)
	return p
}

func (p *podmanEnv) podman(t *testing.T, args ...string) result {
	t.Helper()
	return runClient(t, p.env, nil, "podman", args...)
}

func (p *podmanEnv) must(t *testing.T, args ...string) result {
	t.Helper()
	r := p.podman(t, args...)
	if r.code != 0 {
		t.Fatalf("podman %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// run is `podman run FLAGS... IMAGE ARGS...` with the machine's run flags.
func (p *podmanEnv) run(t *testing.T, flags []string, args ...string) result {
	t.Helper()
	argv := append([]string{"run"}, p.runRun...)
	argv = append(append(argv, flags...), p.image)
	return p.podman(t, append(argv, args...)...)
}

// runArgv is the same as a command line, for underTerminal.
func (p *podmanEnv) runArgv(flags []string, args ...string) []string {
	argv := append([]string{"podman", "run"}, p.runRun...)
	argv = append(append(argv, flags...), p.image)
	return append(argv, args...)
}

// containerIDs are all containers podman ever made here, from its event log.
func (p *podmanEnv) containerIDs(t *testing.T) []string {
	t.Helper()
	r := p.podman(t, "events", "--stream=false", "--filter", "type=container", "--format", "{{.ID}}")
	if r.code != 0 {
		t.Errorf("podman events: %s", r)
	}
	seen := map[string]bool{}
	var ids []string
	for _, id := range strings.Fields(r.stdout) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// leftovers are what podman and ctr-lite left behind: containers ctr-lite
// still knows in its default root, and cgroups below our parent other than
// the parent and conmon's (podman makes those; runc leaves them too).
func (p *podmanEnv) leftovers(t *testing.T) []string {
	t.Helper()
	var left []string
	for _, id := range p.containerIDs(t) {
		if r := ctrLite(t, "state", id); r.code == 0 {
			left = append(left, "ctr-lite state "+id+": "+strings.TrimSpace(r.stdout))
		}
	}
	for _, d := range cgroupTree(t, p.parent) {
		if b := filepath.Base(d); b != "conmon" && "/"+b != p.parent {
			left = append(left, "cgroup "+d)
		}
	}
	return left
}

// cleanup removes the containers however the test ended: through podman,
// then by force (ctr-lite delete, kill the cgroups' processes and conmons).
func (p *podmanEnv) cleanup(t *testing.T) {
	runClient(t, p.env, nil, "podman", "rm", "--all", "--force", "--time", "0")
	for _, id := range p.containerIDs(t) {
		ctrLite(t, "delete", "--force", id)
	}
	killByCmdline(p.dir)
	removeCgroupTree(t, p.parent)
}
