package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// criEnv is a private containerd daemon with its CRI plugin, driven by
// crictl as kubelet drives it: pods (RunPodSandbox) and their containers
// run through the runc v2 shim with ctr-lite (through runtimeWrapper) as
// the runc binary, SystemdCgroup=false and a private runtime root.
//
// The daemon runs in a network namespace of its own (CLONE_NEWNET, only
// lo up): the CNI bridge it makes for the pods, and its streaming server
// for exec on 127.0.0.1, exist only there, so crictl runs there too
// (nsenter --net). No traffic leaves that namespace. Its mount namespace
// is the host's, as kubelet's containerd's is: volume propagation and
// leftovers are seen from the test.
type criEnv struct {
	dir, sock   string
	tag         string
	crictlPath  string
	crictlConf  string
	wrapper     string
	runcRoot    string // the runtime's Root; the shim adds /k8s.io
	image       string // busybox, Cmd sh
	pause       string // the sandbox image: a shell that sleeps
	logs        string // pods' log directories
	daemon      *exec.Cmd
	exited      chan struct{}
	netns       string   // the daemon's network namespace
	podNetns    []string // each pod's network namespace file, as containerd made it
	cgroupRoot  string   // kubelet's --cgroup-root: this run's, removed at the end
	cgroupRoots []string // cgroup parents the pods used
	slices      []string // relative (slice:prefix:name) cgroup names' slice part
}

// criNamespace is the containerd namespace the CRI plugin uses.
const criNamespace = "k8s.io"

// cniBinDir is where Debian's containernetworking-plugins puts the plugins.
const cniBinDir = "/usr/lib/cni"

func newCRI(t *testing.T) *criEnv {
	t.Helper()
	requireClients(t, "containerd", "containerd-shim-runc-v2", "ctr", "script", "nsenter", "ip", "go")
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join(cniBinDir, p)); err != nil {
			if os.Getenv("CTR_LITE_CLIENTS") == "1" {
				t.Fatalf("CNI plugin %s is missing and CTR_LITE_CLIENTS=1: %v", p, err)
			}
			t.Skipf("CNI plugin %s is missing (apt-get install containernetworking-plugins)", p)
		}
	}
	dir := clientDir(t, "ctr-lite-cri-")
	e := &criEnv{
		dir:        dir,
		sock:       filepath.Join(dir, "containerd.sock"),
		tag:        tag(t),
		crictlPath: crictlBinary(t),
		crictlConf: filepath.Join(dir, "crictl.yaml"),
		wrapper:    runtimeWrapper(t, dir),
		runcRoot:   filepath.Join(dir, "runc"),
		image:      "localhost/ctr-lite-busybox:latest",
		pause:      "localhost/ctr-lite-pause:latest",
		logs:       filepath.Join(dir, "logs"),
	}
	e.cgroupRoot = "/ctr-lite-cri-" + e.tag
	netd := filepath.Join(dir, "net.d")
	for _, d := range []string{e.runcRoot, e.logs, netd} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// A bridge with host-local addresses, its leases kept in dir: it is made
	// in the daemon's network namespace, which has no other interface.
	cni := fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "ctr-lite-%s",
  "plugins": [{
    "type": "bridge", "bridge": "ctrlite0", "isGateway": true, "ipMasq": false,
    "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/24"}]], "dataDir": %q}
  }]
}
`, e.tag, filepath.Join(dir, "ipam"))
	writeFile(t, filepath.Join(netd, "10-ctr-lite.conflist"), cni)
	opts := `[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctr-lite.options]`
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  enable_selinux = false
  # No lower oom_score_adj than the daemon's: this machine lacks
  # CAP_SYS_RESOURCE, which lowering it needs (the sandbox asks -998).
  restrict_oom_score_adj = true
  # The pods' network namespaces are bound below the state directory, not
  # in the host's /var/run/netns.
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "ctr-lite"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.ctr-lite]
      runtime_type = "io.containerd.runc.v2"
      %s
        BinaryName = %q
        Root = %q
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
    max_conf_num = 1
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), e.sock, e.sock+".ttrpc",
		filepath.Join(dir, "opt"), e.pause, opts, e.wrapper, e.runcRoot, cniBinDir, netd)
	confPath := filepath.Join(dir, "config.toml")
	writeFile(t, confPath, conf)
	writeFile(t, e.crictlConf, fmt.Sprintf("runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 30\npull-image-on-create: false\n", e.sock, e.sock))

	_, err := os.Stat("/run/containerd")
	madeRunDir := errors.Is(err, os.ErrNotExist)

	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	// lo up first: the streaming server listens on 127.0.0.1.
	e.daemon = exec.Command("sh", "-c", `ip link set lo up && exec containerd --config "$0"`, confPath)
	e.daemon.Stdout, e.daemon.Stderr = logf, logf
	e.daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Cloneflags: syscall.CLONE_NEWNET}
	if err := e.daemon.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	logf.Close()
	e.netns = fmt.Sprintf("/proc/%d/ns/net", e.daemon.Process.Pid)
	e.exited = make(chan struct{})
	go func() { e.daemon.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		e.cleanup(t, madeRunDir)
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Logf("containerd's log:\n%s", data)
		}
	})
	e.waitReady(t)

	layer := filepath.Join(dir, "layer.tar")
	rootfsTar(t, newRootfs(t), layer)
	archive := filepath.Join(dir, "images.tar")
	ociArchiveImages(t, layer, archive,
		ociImage{ref: e.image, cmd: []string{"sh"}},
		// pid 1 of the pod: it sleeps, reaps (wait) and ends on SIGTERM.
		ociImage{ref: e.pause, cmd: []string{"sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"}})
	e.ctrMust(t, "images", "import", "--snapshotter", "native", archive)
	waitFor(t, "the CRI plugin to list the imported images", func() bool {
		out := e.crictl(t, "images", "-q").stdout
		return strings.Count(out, "sha256:") >= 2
	})
	return e
}

// crictlBinary is crictl from PATH, or built once into a cache by
// testdata/crictl.sh (from the Go module proxy). Like a missing client, a
// crictl that cannot be built skips the test, except in CI.
func crictlBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("crictl"); err == nil {
		return p
	}
	script, err := filepath.Abs("../testdata/crictl.sh")
	if err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("CTR_LITE_TESTDATA"); p != "" {
		script = filepath.Join(p, "crictl.sh")
	}
	out, err := exec.Command("sh", script).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("%s", ee.Stderr)
		}
		if os.Getenv("CTR_LITE_CLIENTS") == "1" {
			t.Fatalf("build crictl (testdata/crictl.sh) and CTR_LITE_CLIENTS=1: %v", err)
		}
		t.Skipf("crictl is not installed and cannot be built (testdata/crictl.sh): %v", err)
	}
	return strings.TrimSpace(string(out))
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitReady polls until the daemon's CRI plugin answers.
func (e *criEnv) waitReady(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		select {
		case <-e.exited:
			t.Fatalf("containerd exited at start: %v", e.daemon.ProcessState)
		default:
		}
		r := e.crictl(t, "info")
		if r.code == 0 {
			return
		}
		if i == 200 {
			t.Fatalf("containerd's CRI plugin does not answer on %s: %s", e.sock, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// crictl runs crictl in the daemon's network namespace.
func (e *criEnv) crictl(t *testing.T, args ...string) result {
	t.Helper()
	argv := append([]string{"--net=" + e.netns, e.crictlPath, "--config", e.crictlConf}, args...)
	return runClient(t, nil, nil, "nsenter", argv...)
}

func (e *criEnv) must(t *testing.T, args ...string) result {
	t.Helper()
	r := e.crictl(t, args...)
	if r.code != 0 {
		t.Fatalf("crictl %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// crictlArgv is the crictl command line, for underTerminal.
func (e *criEnv) crictlArgv(args ...string) []string {
	return append([]string{"nsenter", "--net=" + e.netns, e.crictlPath, "--config", e.crictlConf}, args...)
}

func (e *criEnv) ctr(t *testing.T, args ...string) result {
	t.Helper()
	argv := append([]string{"--address", e.sock, "--namespace", criNamespace}, args...)
	return runClient(t, nil, nil, "ctr", argv...)
}

func (e *criEnv) ctrMust(t *testing.T, args ...string) result {
	t.Helper()
	r := e.ctr(t, args...)
	if r.code != 0 {
		t.Fatalf("ctr %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// cfg is a CRI config (PodSandboxConfig, ContainerConfig) as crictl reads
// it: JSON with the protobuf field names.
type cfg map[string]any

// set sets a dotted field path ("linux.security_context.privileged"),
// making the objects on the way.
func (c cfg) set(path string, v any) cfg {
	m := map[string]any(c)
	parts := strings.Split(path, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	return c
}

func (e *criEnv) writeCfg(t *testing.T, name string, c cfg) string {
	t.Helper()
	data, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, name+".json")
	writeFile(t, path, string(data))
	return path
}

// pod is one pod sandbox the test made.
type pod struct {
	id, name, cfgPath string
	cgroupParent      string
}

// podConfig is kubelet's usual sandbox config: a cgroup parent of the
// cgroupfs driver's form (<cgroup root>/kubepods/<qos>/pod<uid>, the root
// this run's, so that runs side by side never share a level), a hostname, a log
// directory, and a PID namespace per container (kubelet's default; POD
// mode shares one, as shareProcessNamespace does).
func (e *criEnv) podConfig(name string) cfg {
	uid := e.tag + "-" + name
	c := cfg{}
	c.set("metadata", map[string]any{"name": name, "namespace": "ctr-lite", "uid": uid, "attempt": 0})
	c.set("hostname", name)
	c.set("log_directory", filepath.Join(e.logs, name))
	c.set("linux.cgroup_parent", e.cgroupRoot+"/kubepods/besteffort/pod"+uid)
	c.set("linux.security_context.namespace_options.pid", 1) // CONTAINER
	return c
}

// runPod runs `crictl runp` and removes the pod when the test ends.
func (e *criEnv) runPod(t *testing.T, c cfg) *pod {
	t.Helper()
	name := c["metadata"].(map[string]any)["name"].(string)
	parent, _ := c["linux"].(map[string]any)["cgroup_parent"].(string)
	e.cgroupRoots = append(e.cgroupRoots, parent)
	p := &pod{name: name, cfgPath: e.writeCfg(t, "pod-"+name, c), cgroupParent: parent}
	r := e.must(t, "runp", p.cfgPath)
	p.id = strings.TrimSpace(r.stdout)
	var info struct {
		Info struct {
			RuntimeSpec struct {
				Linux struct {
					Namespaces []struct{ Type, Path string }
				}
			} `json:"runtimeSpec"`
		}
	}
	e.inspect(t, &info, "inspectp", p.id)
	for _, ns := range info.Info.RuntimeSpec.Linux.Namespaces {
		if ns.Type == "network" && ns.Path != "" {
			e.podNetns = append(e.podNetns, ns.Path)
		}
	}
	t.Cleanup(func() {
		e.crictl(t, "stopp", p.id)
		e.crictl(t, "rmp", "--force", p.id)
	})
	return p
}

// containerConfig is a container of the busybox image running args, its
// log at <pod log directory>/<name>.log.
func (e *criEnv) containerConfig(name string, args ...string) cfg {
	c := cfg{}
	c.set("metadata", map[string]any{"name": name, "attempt": 0})
	c.set("image.image", e.image)
	c.set("command", args)
	c.set("log_path", name+".log")
	c.set("linux.security_context.namespace_options.pid", 1) // CONTAINER
	return c
}

// create runs `crictl create` for a container of p; start starts it too.
func (e *criEnv) create(t *testing.T, p *pod, c cfg) string {
	t.Helper()
	name := c["metadata"].(map[string]any)["name"].(string)
	path := e.writeCfg(t, "ctr-"+p.name+"-"+name, c)
	return strings.TrimSpace(e.must(t, "create", "--no-pull", p.id, path, p.cfgPath).stdout)
}

func (e *criEnv) start(t *testing.T, p *pod, c cfg) string {
	t.Helper()
	id := e.create(t, p, c)
	e.must(t, "start", id)
	return id
}

// inspect decodes `crictl inspect[p] -o json ID` into v.
func (e *criEnv) inspect(t *testing.T, v any, cmd, id string) {
	t.Helper()
	r := e.must(t, cmd, "-o", "json", id)
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("crictl %s %s: %v\n%s", cmd, id, err, r.stdout)
	}
}

// containerStatus is the part of `crictl inspect` the tests read.
type containerStatus struct {
	Status struct {
		State    string
		ExitCode int32 `json:"exitCode"`
		Reason   string
		Message  string
		LogPath  string `json:"logPath"`
	}
	Info struct {
		Pid int
	}
}

func (e *criEnv) status(t *testing.T, id string) containerStatus {
	t.Helper()
	var s containerStatus
	e.inspect(t, &s, "inspect", id)
	return s
}

// pid is the host pid of a container's (or with inspectp, a pod's) init.
func (e *criEnv) pid(t *testing.T, cmd, id string) int {
	t.Helper()
	var s containerStatus
	e.inspect(t, &s, cmd, id)
	if s.Info.Pid <= 0 {
		t.Fatalf("crictl %s %s: no pid", cmd, id)
	}
	return s.Info.Pid
}

// exec runs `crictl exec ID ARGS...`.
func (e *criEnv) exec(t *testing.T, id string, args ...string) result {
	t.Helper()
	return e.crictl(t, append([]string{"exec", id}, args...)...)
}

// leftovers are what the pods may leave: pods, containers, tasks and
// containers in containerd, containers in ctr-lite's root, the pods'
// container cgroups, their network namespaces, and mounts under dir but
// keep (the test's own).
func (e *criEnv) leftovers(t *testing.T, keep ...string) []string {
	t.Helper()
	var left []string
	for _, what := range [][]string{{"pods", "-q"}, {"ps", "-a", "-q"}} {
		for _, id := range strings.Fields(e.must(t, what...).stdout) {
			left = append(left, "crictl "+what[0]+" "+id)
		}
	}
	for _, what := range []string{"tasks", "containers"} {
		for _, id := range strings.Fields(e.ctrMust(t, what, "ls", "--quiet").stdout) {
			left = append(left, "containerd "+what[:len(what)-1]+" "+id)
		}
	}
	ents, err := os.ReadDir(filepath.Join(e.runcRoot, criNamespace))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, ent := range ents {
		left = append(left, "ctr-lite state "+filepath.Join(e.runcRoot, criNamespace, ent.Name()))
	}
	for _, d := range e.cgroups(t) {
		left = append(left, "cgroup "+d)
	}
	for _, ns := range e.podNetns {
		if _, err := os.Lstat(ns); err == nil {
			left = append(left, "network namespace "+ns)
		}
	}
	kept := map[string]bool{}
	for _, k := range keep {
		kept[k] = true
	}
	for _, m := range mountsUnder(t, e.dir) {
		if !kept[m] {
			left = append(left, "mount "+m)
		}
	}
	return left
}

// cgroups are the containers' cgroups: below the pods' parents, and the
// relative ones (slice:prefix:name) below the test's own cgroup, where
// containerd, its shims and so ctr-lite run.
func (e *criEnv) cgroups(t *testing.T) []string {
	t.Helper()
	var found []string
	for _, parent := range e.cgroupRoots {
		if !strings.HasPrefix(parent, "/") {
			continue
		}
		for _, d := range cgroupTree(t, parent) {
			if !isCgroupParent(d, parent) {
				found = append(found, d)
			}
		}
	}
	for _, d := range e.relativeCgroups(t) {
		found = append(found, d)
	}
	return found
}

// isCgroupParent reports whether d is the directory of parent itself in
// one hierarchy (it is the pod's: kubelet makes and removes it).
func isCgroupParent(d, parent string) bool {
	return strings.HasSuffix(d, parent)
}

// relativeCgroups are the cgroups named after the slices of relative
// cgroup paths, next to the test in each hierarchy.
func (e *criEnv) relativeCgroups(t *testing.T) []string {
	t.Helper()
	var found []string
	own := procCgroups(t, "self")
	for _, m := range cgroupMounts(t) {
		rel := own[""]
		for _, c := range strings.Split(filepath.Base(m), ",") {
			if c == "systemd" {
				c = "name=systemd"
			}
			if p, ok := own[c]; ok {
				rel = p
			}
		}
		ents, _ := os.ReadDir(filepath.Join(m, rel))
		for _, ent := range ents {
			for _, s := range e.slices {
				if ent.IsDir() && strings.HasPrefix(ent.Name(), s+":") {
					found = append(found, filepath.Join(m, rel, ent.Name()))
				}
			}
		}
	}
	return found
}

// cleanup removes everything however the test ended: pods by force,
// ctr-lite's containers, the daemon, its shims, the pods' cgroups and
// network namespaces.
func (e *criEnv) cleanup(t *testing.T, madeRunDir bool) {
	select {
	case <-e.exited:
	default:
		for _, id := range strings.Fields(e.crictl(t, "pods", "-q").stdout) {
			e.crictl(t, "stopp", id)
			e.crictl(t, "rmp", "--force", id)
		}
	}
	root := filepath.Join(e.runcRoot, criNamespace)
	ents, _ := os.ReadDir(root)
	for _, ent := range ents {
		ctrLite(t, "--root", root, "delete", "--force", ent.Name())
	}
	select {
	case <-e.exited:
	default:
		e.daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(10 * time.Second):
			e.daemon.Process.Kill()
			<-e.exited
		}
	}
	killByCmdline(e.sock)
	removeCgroupTree(t, e.cgroupRoot)
	for _, d := range e.relativeCgroups(t) {
		killCgroup(d)
		os.Remove(d)
	}
	for _, ns := range e.podNetns {
		unix.Unmount(ns, unix.MNT_DETACH)
		os.Remove(ns)
	}
	if madeRunDir {
		os.Remove("/run/containerd/s")
		os.Remove("/run/containerd")
	}
}

// killCgroup kills the processes of one cgroup directory (a container the
// test left) and waits for it to empty.
func killCgroup(dir string) {
	for try := 0; try < 100; try++ {
		data, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		pids := strings.Fields(string(data))
		if len(pids) == 0 {
			return
		}
		for _, f := range pids {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil {
				unix.Kill(pid, unix.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}
