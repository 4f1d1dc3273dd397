package integration

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// containerdEnv is a private containerd daemon (its own config, root,
// state, socket and /opt directory) and a private namespace, whose tasks
// run through the runc v2 shim with ctr-lite (through runtimeWrapper) as
// the runc binary and a private runtime root. ctr puts the task's cgroup at
// /<namespace>/<id>. The shim's sockets live under /run/containerd/s
// whatever the config says (BASELINE.md item 5).
type containerdEnv struct {
	dir, sock, ns string
	wrapper       string
	runcRoot      string // --runc-root; the shim adds /<namespace>
	fifos         string
	image         string
	daemon        *exec.Cmd
	exited        chan struct{}
}

func newContainerd(t *testing.T) *containerdEnv {
	t.Helper()
	requireClients(t, "containerd", "containerd-shim-runc-v2", "ctr", "script")
	dir := clientDir(t, "ctr-lite-cd-")
	c := &containerdEnv{
		dir:      dir,
		sock:     filepath.Join(dir, "containerd.sock"),
		ns:       "ctr-lite-" + tag(t),
		wrapper:  runtimeWrapper(t, dir),
		runcRoot: filepath.Join(dir, "runc"),
		fifos:    filepath.Join(dir, "fifo"),
		image:    "localhost/ctr-lite-busybox:latest",
	}
	for _, d := range []string{c.runcRoot, c.fifos} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
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
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.sock, c.sock+".ttrpc", filepath.Join(dir, "opt"))
	confPath := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := os.Stat("/run/containerd")
	madeRunDir := errors.Is(err, os.ErrNotExist)

	logf, err := os.Create(filepath.Join(dir, "containerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	c.daemon = exec.Command("containerd", "--config", confPath)
	c.daemon.Stdout, c.daemon.Stderr = logf, logf
	c.daemon.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.daemon.Start(); err != nil {
		logf.Close()
		t.Fatal(err)
	}
	logf.Close()
	c.exited = make(chan struct{})
	go func() { c.daemon.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.cleanup(t, madeRunDir)
		if t.Failed() {
			data, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
			t.Logf("containerd's log:\n%s", data)
		}
	})
	c.waitReady(t)

	layer := filepath.Join(dir, "layer.tar")
	rootfsTar(t, newRootfs(t), layer)
	archive := filepath.Join(dir, "image.tar")
	ociArchive(t, layer, c.image, archive)
	c.must(t, "images", "import", "--snapshotter", "native", archive)
	return c
}

// waitReady polls until the daemon answers on its socket.
func (c *containerdEnv) waitReady(t *testing.T) {
	t.Helper()
	for i := 0; ; i++ {
		select {
		case <-c.exited:
			t.Fatalf("containerd exited at start: %v", c.daemon.ProcessState)
		default:
		}
		r := c.ctr(t, "version")
		if r.code == 0 {
			return
		}
		if i == 200 {
			t.Fatalf("containerd does not answer on %s: %s", c.sock, r)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *containerdEnv) ctrArgv(args ...string) []string {
	return append([]string{"ctr", "--address", c.sock, "--namespace", c.ns}, args...)
}

func (c *containerdEnv) ctr(t *testing.T, args ...string) result {
	t.Helper()
	argv := c.ctrArgv(args...)
	return runClient(t, nil, nil, argv[0], argv[1:]...)
}

func (c *containerdEnv) must(t *testing.T, args ...string) result {
	t.Helper()
	r := c.ctr(t, args...)
	if r.code != 0 {
		t.Fatalf("ctr %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// runArgv is `ctr run FLAGS... IMAGE ID ARGS...` through ctr-lite.
func (c *containerdEnv) runArgv(flags []string, id string, args ...string) []string {
	argv := c.ctrArgv("run", "--snapshotter", "native", "--runc-binary", c.wrapper,
		"--runc-root", c.runcRoot, "--fifo-dir", c.fifos)
	argv = append(append(argv, flags...), c.image, id)
	return append(argv, args...)
}

func (c *containerdEnv) run(t *testing.T, flags []string, id string, args ...string) result {
	t.Helper()
	argv := c.runArgv(flags, id, args...)
	return runClient(t, nil, nil, argv[0], argv[1:]...)
}

// taskPid is the host pid of a task's init, from `ctr task ls`.
func (c *containerdEnv) taskPid(t *testing.T, id string) (pid, status string) {
	t.Helper()
	for _, line := range strings.Split(c.must(t, "task", "ls").stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			return f[1], f[2]
		}
	}
	t.Fatalf("no task %s", id)
	return "", ""
}

// leftovers are tasks and containers containerd still has, containers in
// ctr-lite's root, and cgroups below /<namespace>.
func (c *containerdEnv) leftovers(t *testing.T) []string {
	t.Helper()
	var left []string
	for _, what := range []string{"tasks", "containers"} {
		for _, id := range strings.Fields(c.must(t, what, "ls", "--quiet").stdout) {
			left = append(left, what[:len(what)-1]+" "+id)
		}
	}
	ents, err := os.ReadDir(filepath.Join(c.runcRoot, c.ns))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, e := range ents {
		left = append(left, "ctr-lite state "+filepath.Join(c.runcRoot, c.ns, e.Name()))
	}
	for _, d := range cgroupTree(t, c.ns) {
		if filepath.Base(d) != c.ns {
			left = append(left, "cgroup "+d)
		}
	}
	return left
}

// cleanup removes everything however the test ended: ctr-lite's
// containers by force, containerd's tasks and containers, the daemon, its
// shims, and the namespace's cgroups.
func (c *containerdEnv) cleanup(t *testing.T, madeRunDir bool) {
	root := filepath.Join(c.runcRoot, c.ns)
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		ctrLite(t, "--root", root, "delete", "--force", e.Name())
	}
	select {
	case <-c.exited:
	default:
		for _, id := range strings.Fields(c.ctr(t, "tasks", "ls", "--quiet").stdout) {
			c.ctr(t, "tasks", "delete", "--force", id)
		}
		for _, id := range strings.Fields(c.ctr(t, "containers", "ls", "--quiet").stdout) {
			c.ctr(t, "containers", "delete", id)
		}
		c.daemon.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			c.daemon.Process.Kill()
			<-c.exited
		}
	}
	killByCmdline(c.sock)
	removeCgroupTree(t, c.ns)
	if madeRunDir {
		os.Remove("/run/containerd/s")
		os.Remove("/run/containerd")
	}
}
