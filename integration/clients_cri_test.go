package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A Kubernetes node: kubelet → containerd's CRI plugin → the runc v2
// shim → ctr-lite. crictl plays kubelet (clients_cri_env_test.go).

// removePod is kubelet's pod teardown (stopp, rmp), after which nothing
// of the pod may be left: no containers, tasks, runtime state, cgroups,
// network namespace or mounts.
func (e *criEnv) removePod(t *testing.T, p *pod, keep ...string) {
	t.Helper()
	e.must(t, "stopp", p.id)
	e.must(t, "rmp", p.id)
	if left := e.leftovers(t, keep...); len(left) > 0 {
		t.Errorf("left behind after rmp:\n%s", strings.Join(left, "\n"))
	}
}

// nsLink is the namespace of kind ns of process pid, as a link text.
func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// capEff is the effective capability set of pid.
func capEff(t *testing.T, pid int) uint64 {
	t.Helper()
	v, err := strconv.ParseUint(statusField(t, pid, "CapEff"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// cpuFiles reads CPU shares, quota and period of pid's cgroup: the v1
// files, or the v2 ones converted back (cpu.weight from shares as
// runc/crun convert: 1 + (shares-2)*9999/262142).
func cpuFiles(t *testing.T, pid int) (shares, quota, period string) {
	t.Helper()
	p := strconv.Itoa(pid)
	if _, ok := procCgroups(t, p)["cpu"]; ok {
		return cgroupFile(t, p, "cpu", "cpu.shares", ""), cgroupFile(t, p, "cpu", "cpu.cfs_quota_us", ""),
			cgroupFile(t, p, "cpu", "cpu.cfs_period_us", "")
	}
	w, err := strconv.ParseUint(cgroupFile(t, p, "cpu", "", "cpu.weight"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	max := strings.Fields(cgroupFile(t, p, "cpu", "", "cpu.max"))
	if len(max) != 2 {
		t.Fatalf("cpu.max: %v", max)
	}
	// Invert the conversion for the shares the tests use (exact for them).
	for s := uint64(2); s <= 262144; s++ {
		if 1+((s-2)*9999)/262142 == w {
			if s == 512 || s == 256 {
				return strconv.FormatUint(s, 10), max[0], max[1]
			}
		}
	}
	return "weight " + strconv.FormatUint(w, 10), max[0], max[1]
}

// limitCgroups are pid's cgroups where limits are set: the memory, cpu
// and pids v1 hierarchies, or the cgroup2 one ("") when it has none.
func limitCgroups(t *testing.T, pid int) map[string]string {
	t.Helper()
	cg := procCgroups(t, strconv.Itoa(pid))
	out := map[string]string{}
	for _, c := range []string{"memory", "cpu", "pids"} {
		if p, ok := cg[c]; ok {
			out[c] = p
		}
	}
	if len(out) == 0 {
		out[""] = cg[""]
	}
	return out
}

func memoryLimit(t *testing.T, pid int) string {
	t.Helper()
	return cgroupFile(t, strconv.Itoa(pid), "memory", "memory.limit_in_bytes", "memory.max")
}

func TestOrchestratorRunsPodsWithContainerdCRI(t *testing.T) {
	e := newCRI(t)

	t.Run("pod lifecycle: runp, create, start, logs, exec, stats, stop, rm, stopp, rmp", func(t *testing.T) {
		var id string
		p := e.runPod(t, e.podConfig("life"))
		t.Run("runp starts the pause sandbox", func(t *testing.T) {
			if st := strings.TrimSpace(e.must(t, "inspectp", "-o", "go-template", "--template", "{{.status.state}}", p.id).stdout); st != "SANDBOX_READY" {
				t.Errorf("pod state %s, want SANDBOX_READY", st)
			}
			pid := e.pid(t, "inspectp", p.id)
			if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); !strings.Contains(string(cmd), "trap") {
				t.Errorf("the sandbox's init is not the pause loop: %q", cmd)
			}
		})
		t.Run("create and start", func(t *testing.T) {
			id = e.create(t, p, e.containerConfig("c", "sh", "-c", trapScript))
			if st := e.status(t, id).Status.State; st != "CONTAINER_CREATED" {
				t.Errorf("after create: %s, want CONTAINER_CREATED", st)
			}
			e.must(t, "start", id)
			if st := e.status(t, id).Status.State; st != "CONTAINER_RUNNING" {
				t.Errorf("after start: %s, want CONTAINER_RUNNING", st)
			}
		})
		if id == "" {
			t.Fatal("no container")
		}
		t.Run("logs", func(t *testing.T) {
			waitFor(t, "the container's trap", func() bool {
				return strings.Contains(e.must(t, "logs", id).stdout, "ready")
			})
			if lp := e.status(t, id).Status.LogPath; lp != filepath.Join(e.logs, "life", "c.log") {
				t.Errorf("log path %s", lp)
			}
		})
		t.Run("exec gives the output and exit status", func(t *testing.T) {
			// crictl exits 1 and names the command's status, as kubectl does.
			if r := e.exec(t, id, "sh", "-c", "echo in; echo err >&2; exit 5"); r.code == 0 || r.stdout != "in\n" ||
				!strings.Contains(r.stderr, "err\n") || !strings.Contains(r.stderr, "exit code 5") {
				t.Errorf("want in, err, exit code 5:\n%s", r)
			}
			if r := e.exec(t, id, "cat", "/proc/1/cmdline"); r.code != 0 || !strings.Contains(r.stdout, "trap") {
				t.Errorf("exec is not in the container's PID namespace:\n%s", r)
			}
		})
		// crictl takes -t only with -i (kubectl exec -t alone gets no tty).
		t.Run("exec -it under a terminal gets a tty", func(t *testing.T) {
			wantPts(t, "crictl exec -it tty", underTerminal(t, nil, e.crictlArgv("exec", "-it", id, "tty")...))
		})
		t.Run("stats", func(t *testing.T) {
			var st struct {
				Stats []struct {
					Attributes struct{ ID string }
					CPU        struct {
						UsageCoreNanoSeconds struct{ Value string }
					}
					Memory struct {
						WorkingSetBytes struct{ Value string }
					}
				}
			}
			r := e.must(t, "stats", "-o", "json", "--id", id)
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatalf("crictl stats: %v\n%s", err, r)
			}
			if len(st.Stats) != 1 || st.Stats[0].Attributes.ID != id {
				t.Fatalf("crictl stats: not one entry for %s:\n%s", id, r)
			}
			s := st.Stats[0]
			if n, _ := strconv.ParseUint(s.CPU.UsageCoreNanoSeconds.Value, 10, 64); n == 0 {
				t.Errorf("no CPU usage:\n%s", r)
			}
			if n, _ := strconv.ParseUint(s.Memory.WorkingSetBytes.Value, 10, 64); n == 0 {
				t.Errorf("no memory working set:\n%s", r)
			}
		})
		t.Run("stop delivers SIGTERM to the trap", func(t *testing.T) {
			e.must(t, "stop", "--timeout", "10", id)
			s := e.status(t, id)
			if s.Status.State != "CONTAINER_EXITED" || s.Status.ExitCode != 42 {
				t.Errorf("after stop: %s exit %d, want CONTAINER_EXITED exit 42 (the trap's)", s.Status.State, s.Status.ExitCode)
			}
			if out := e.must(t, "logs", id).stdout; !strings.Contains(out, "got TERM") {
				t.Errorf("the trap did not run; logs:\n%s", out)
			}
		})
		t.Run("rm", func(t *testing.T) {
			e.must(t, "rm", id)
			if r := ctrLite(t, "--root", filepath.Join(e.runcRoot, criNamespace), "state", id); r.code == 0 {
				t.Errorf("ctr-lite still knows %s after crictl rm:\n%s", id, r)
			}
			if r := e.must(t, "ps", "-a", "-q"); strings.TrimSpace(r.stdout) != "" {
				t.Errorf("containers after rm: %s", r.stdout)
			}
		})
		t.Run("stopp, rmp and nothing left behind", func(t *testing.T) {
			e.removePod(t, p)
		})
	})

	t.Run("containers join the pod's network, IPC and UTS namespaces", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("shared"))
		id := e.start(t, p, e.containerConfig("c", "sleep", "3600"))
		podPid, pid := e.pid(t, "inspectp", p.id), e.pid(t, "inspect", id)
		for _, ns := range []string{"net", "ipc", "uts"} {
			if a, b := nsLink(t, podPid, ns), nsLink(t, pid, ns); a != b {
				t.Errorf("%s namespace: container %s, pod %s", ns, b, a)
			}
		}
		for _, ns := range []string{"pid", "mnt"} {
			if a, b := nsLink(t, podPid, ns), nsLink(t, pid, ns); a == b {
				t.Errorf("%s namespace of the container is the pod's (%s)", ns, a)
			}
		}
		if a, b := nsLink(t, pid, "net"), nsLink(t, e.daemon.Process.Pid, "net"); a == b {
			t.Errorf("the pod has the daemon's network namespace %s", a)
		}
		if r := e.exec(t, id, "hostname"); r.code != 0 || r.stdout != "shared\n" {
			t.Errorf("hostname in the container: want the pod's (shared):\n%s", r)
		}
		ip := strings.TrimSpace(e.must(t, "inspectp", "-o", "go-template", "--template", "{{.status.network.ip}}", p.id).stdout)
		if r := e.exec(t, id, "ip", "-o", "-4", "addr", "show", "eth0"); r.code != 0 || ip == "" || !strings.Contains(r.stdout, " "+ip+"/") {
			t.Errorf("eth0 in the container does not have the pod's address %q:\n%s", ip, r)
		}
		e.removePod(t, p)
	})

	t.Run("containers share the pod's PID namespace when asked", func(t *testing.T) {
		pc := e.podConfig("sharepid").set("linux.security_context.namespace_options.pid", 0) // POD
		p := e.runPod(t, pc)
		c := e.containerConfig("c", "sleep", "3600").set("linux.security_context.namespace_options.pid", 0)
		id := e.start(t, p, c)
		podPid, pid := e.pid(t, "inspectp", p.id), e.pid(t, "inspect", id)
		if a, b := nsLink(t, podPid, "pid"), nsLink(t, pid, "pid"); a != b {
			t.Errorf("pid namespace: container %s, pod %s", b, a)
		}
		// The pause loop is pid 1; the container's sleep is another pid.
		if r := e.exec(t, id, "cat", "/proc/1/cmdline"); r.code != 0 || !strings.Contains(r.stdout, "trap") {
			t.Errorf("pid 1 seen by the container is not the pod's pause:\n%s", r)
		}
		e.removePod(t, p)
	})

	t.Run("pod cgroup parent <root>/kubepods/<qos>/pod<uid> (cgroupfs driver): the containers' cgroups are below it", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("kubepods"))
		id := e.start(t, p, e.containerConfig("c", "sleep", "3600"))
		for what, cmd := range map[string]string{p.id: "inspectp", id: "inspect"} {
			for c, got := range limitCgroups(t, e.pid(t, cmd, what)) {
				if want := p.cgroupParent + "/" + what; got != want {
					t.Errorf("%q cgroup of %s: %s, want %s", c, what, got, want)
				}
			}
		}
		e.removePod(t, p)
	})

	t.Run("pod cgroup parent *.slice: containerd's slice:cri-containerd:ID, below the runtime's own cgroup", func(t *testing.T) {
		// kubelet's systemd driver names the pod's cgroup so; containerd
		// 1.6 turns it into slice:cri-containerd:ID even with
		// SystemdCgroup=false, and runc's cgroupfs driver takes that as
		// a cgroup of that name below its own (the shim's, the test's).
		slice := "kubepods-besteffort-pod" + e.tag + ".slice"
		e.slices = append(e.slices, slice)
		p := e.runPod(t, e.podConfig("slice").set("linux.cgroup_parent", "/kubepods.slice/kubepods-besteffort.slice/"+slice))
		id := e.start(t, p, e.containerConfig("c", "sleep", "3600"))
		own := procCgroups(t, "self")
		for what, cmd := range map[string]string{p.id: "inspectp", id: "inspect"} {
			for c, got := range limitCgroups(t, e.pid(t, cmd, what)) {
				if want := filepath.Join(own[c], slice+":cri-containerd:"+what); got != want {
					t.Errorf("%q cgroup of %s: %s, want %s", c, what, got, want)
				}
			}
		}
		e.removePod(t, p)
	})

	t.Run("security context: run_as_user, run_as_group, supplemental groups", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("user"))
		c := e.containerConfig("c", "sleep", "3600").
			set("linux.security_context.run_as_user.value", 1000).
			set("linux.security_context.run_as_group.value", 1001).
			set("linux.security_context.supplemental_groups", []int{2001, 2002})
		id := e.start(t, p, c)
		pid := e.pid(t, "inspect", id)
		if u := strings.Fields(statusField(t, pid, "Uid")); len(u) != 4 || u[0] != "1000" || u[3] != "1000" {
			t.Errorf("Uid of the container's init: %v, want 1000", u)
		}
		if g := strings.Fields(statusField(t, pid, "Gid")); len(g) != 4 || g[0] != "1001" || g[3] != "1001" {
			t.Errorf("Gid of the container's init: %v, want 1001", g)
		}
		groups := " " + statusField(t, pid, "Groups") + " "
		for _, g := range []string{"2001", "2002"} {
			if !strings.Contains(groups, " "+g+" ") {
				t.Errorf("Groups of the container's init: %q lacks %s", groups, g)
			}
		}
		if r := e.exec(t, id, "sh", "-c", "id -u; id -g; id -G"); r.code != 0 || !strings.HasPrefix(r.stdout, "1000\n1001\n") || !strings.Contains(r.stdout, "2001") {
			t.Errorf("exec runs as the container's user:\n%s", r)
		}
		e.removePod(t, p)
	})

	t.Run("security context: read-only rootfs, capabilities, no_new_privs, seccomp, masked and read-only paths", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("sec"))
		plain := e.start(t, p, e.containerConfig("plain", "sleep", "3600"))
		ro := e.start(t, p, e.containerConfig("ro", "sleep", "3600").set("linux.security_context.readonly_rootfs", true))
		caps := e.start(t, p, e.containerConfig("caps", "sleep", "3600").
			set("linux.security_context.capabilities", map[string]any{"add_capabilities": []string{"NET_ADMIN"}, "drop_capabilities": []string{"CHOWN"}}))
		nnp := e.start(t, p, e.containerConfig("nnp", "sleep", "3600").set("linux.security_context.no_new_privs", true))
		def := e.start(t, p, e.containerConfig("seccomp-default", "sleep", "3600").set("linux.security_context.seccomp.profile_type", 0))
		unconf := e.start(t, p, e.containerConfig("seccomp-unconfined", "sleep", "3600").set("linux.security_context.seccomp.profile_type", 1))
		// kubelet sends its default lists (runtime-spec's, the ones that
		// do not exist on this kernel ignored as runc ignores them), plus a
		// directory with files (/sbin) and one to make read-only (/home).
		masked := e.start(t, p, e.containerConfig("masked", "sleep", "3600").
			set("linux.security_context.masked_paths", []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sbin"}).
			set("linux.security_context.readonly_paths", []string{"/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
				"/proc/sysrq-trigger", "/home"}))

		t.Run("read-only rootfs", func(t *testing.T) {
			probe := "touch /probe 2>/dev/null && echo writable || echo read-only"
			if r := e.exec(t, ro, "sh", "-c", probe); r.stdout != "read-only\n" {
				t.Errorf("readonly_rootfs container: %s", r)
			}
			if r := e.exec(t, plain, "sh", "-c", probe); r.stdout != "writable\n" {
				t.Errorf("default container: %s", r)
			}
		})
		t.Run("added and dropped capabilities", func(t *testing.T) {
			c, d := capEff(t, e.pid(t, "inspect", caps)), capEff(t, e.pid(t, "inspect", plain))
			if c&(1<<unix.CAP_NET_ADMIN) == 0 || c&(1<<unix.CAP_CHOWN) != 0 {
				t.Errorf("CapEff %x: want NET_ADMIN, no CHOWN", c)
			}
			if d&(1<<unix.CAP_NET_ADMIN) != 0 || d&(1<<unix.CAP_CHOWN) == 0 {
				t.Errorf("default CapEff %x: want CHOWN, no NET_ADMIN", d)
			}
			if r := e.exec(t, caps, "sh", "-c", "grep CapEff /proc/self/status"); !strings.Contains(r.stdout, fmt.Sprintf("%016x", c)) {
				t.Errorf("exec's CapEff is not the container's %016x:\n%s", c, r)
			}
		})
		t.Run("no_new_privs", func(t *testing.T) {
			if v := statusField(t, e.pid(t, "inspect", nnp), "NoNewPrivs"); v != "1" {
				t.Errorf("no_new_privs container: NoNewPrivs %s", v)
			}
			if v := statusField(t, e.pid(t, "inspect", plain), "NoNewPrivs"); v != "0" {
				t.Errorf("default container: NoNewPrivs %s", v)
			}
			if r := e.exec(t, nnp, "grep", "NoNewPrivs", "/proc/self/status"); !strings.Contains(r.stdout, "1") {
				t.Errorf("exec in the no_new_privs container:\n%s", r)
			}
		})
		t.Run("seccomp runtime/default and unconfined", func(t *testing.T) {
			if v := statusField(t, e.pid(t, "inspect", def), "Seccomp"); v != "2" {
				t.Errorf("runtime/default: Seccomp %s, want 2 (filter)", v)
			}
			if v := statusField(t, e.pid(t, "inspect", unconf), "Seccomp"); v != "0" {
				t.Errorf("unconfined: Seccomp %s, want 0", v)
			}
			// A user namespace needs no capability from the kernel, but
			// runtime/default allows unshare only with CAP_SYS_ADMIN.
			probe := "unshare -U true 2>/dev/null && echo allowed || echo refused"
			if r := e.exec(t, def, "sh", "-c", probe); r.stdout != "refused\n" {
				t.Errorf("unshare -U under runtime/default:\n%s", r)
			}
			if r := e.exec(t, unconf, "sh", "-c", probe); r.stdout != "allowed\n" {
				t.Errorf("unshare -U unconfined:\n%s", r)
			}
		})
		t.Run("masked and read-only paths", func(t *testing.T) {
			// A masked file is /dev/null bound over it, a masked directory
			// an empty read-only tmpfs; a read-only path is a read-only
			// bind mount.
			script := "stat -c %F /proc/timer_list; ls -A /sbin | wc -l; touch /home/x 2>/dev/null && echo home-writable || echo home-read-only; " +
				"grep -c ' /proc/sys proc ro,' /proc/mounts"
			if r := e.exec(t, masked, "sh", "-c", script); r.stdout != "character special file\n0\nhome-read-only\n1\n" {
				t.Errorf("masked /proc/timer_list and /sbin, read-only /home and /proc/sys:\n%s", r)
			}
			if r := e.exec(t, plain, "sh", "-c", script); !regexp.MustCompile(`^regular empty file\n[1-9][0-9]*\nhome-writable\n0\n$`).MatchString(r.stdout) {
				t.Errorf("a container without masked and read-only paths:\n%s", r)
			}
		})
		e.removePod(t, p)
	})

	t.Run("security context: privileged", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("priv").set("linux.security_context.privileged", true))
		id := e.start(t, p, e.containerConfig("c", "sleep", "3600").set("linux.security_context.privileged", true))
		pid := e.pid(t, "inspect", id)
		if got, want := capEff(t, pid), capEff(t, os.Getpid()); got != want {
			t.Errorf("privileged CapEff %x, want the host's %x", got, want)
		}
		if v := statusField(t, pid, "Seccomp"); v != "0" {
			t.Errorf("privileged: Seccomp %s, want 0", v)
		}
		// /sys is not checked: the spec asks rw, but the pause container
		// (not privileged in containerd's sandbox spec) mounted sysfs
		// read-only first in the pod's network namespace, and the kernel
		// gives later sysfs mounts there its read-only superblock.
		script := "mount -t tmpfs t /mnt && echo mounted && umount /mnt; test -c /dev/kmsg && echo host-devices; stat -c %F /proc/timer_list"
		if r := e.exec(t, id, "sh", "-c", script); r.stdout != "mounted\nhost-devices\nregular empty file\n" {
			t.Errorf("privileged container: want mount, host devices, unmasked /proc/timer_list:\n%s", r)
		}
		e.removePod(t, p)
	})

	t.Run("resources: CPU shares, quota and memory limit reach the cgroup; crictl update changes them", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("res"))
		c := e.containerConfig("c", "sleep", "3600").set("linux.resources", map[string]any{
			"cpu_shares": 512, "cpu_quota": 50000, "cpu_period": 100000, "memory_limit_in_bytes": 64 << 20,
		})
		id := e.start(t, p, c)
		pid := e.pid(t, "inspect", id)
		if s, q, per := cpuFiles(t, pid); s != "512" || q != "50000" || per != "100000" {
			t.Errorf("cpu shares %s quota %s period %s, want 512 50000 100000", s, q, per)
		}
		if m := memoryLimit(t, pid); m != strconv.Itoa(64<<20) {
			t.Errorf("memory limit %s, want %d", m, 64<<20)
		}
		t.Run("crictl update", func(t *testing.T) {
			e.must(t, "update", "--cpu-share", "256", "--cpu-quota", "20000", "--cpu-period", "100000", "--memory", strconv.Itoa(128<<20), id)
			if s, q, per := cpuFiles(t, pid); s != "256" || q != "20000" || per != "100000" {
				t.Errorf("after update: cpu shares %s quota %s period %s, want 256 20000 100000", s, q, per)
			}
			if m := memoryLimit(t, pid); m != strconv.Itoa(128<<20) {
				t.Errorf("after update: memory limit %s, want %d", m, 128<<20)
			}
		})
		e.removePod(t, p)
	})

	t.Run("resources: an OOM-killed container reports OOMKilled", func(t *testing.T) {
		p := e.runPod(t, e.podConfig("oom"))
		// A string that doubles until the memory limit kills the shell.
		c := e.containerConfig("c", "sh", "-c", "x=0123456789abcdef; while :; do x=$x$x; done").
			set("linux.resources.memory_limit_in_bytes", 32<<20)
		id := e.start(t, p, c)
		var s containerStatus
		waitFor(t, "the container to be OOM-killed", func() bool {
			s = e.status(t, id)
			return s.Status.State == "CONTAINER_EXITED"
		})
		if s.Status.Reason != "OOMKilled" || s.Status.ExitCode != 137 {
			t.Errorf("exited with reason %q exit %d, want OOMKilled exit 137", s.Status.Reason, s.Status.ExitCode)
		}
		e.removePod(t, p)
	})

	t.Run("volumes: hostPath dir and file; private, HostToContainer and Bidirectional propagation", func(t *testing.T) {
		v := e.volumes(t, "dir", "private", "h2c", "bidir")
		writeFile(t, filepath.Join(v.dir, "dir", "in-dir"), "from the host dir\n")
		writeFile(t, filepath.Join(v.dir, "file"), "from the host file\n")
		p, id := v.run(t, "vol", map[string]int{"dir": 0, "file": 0, "private": 0, "h2c": 1, "bidir": 2})

		t.Run("hostPath dir and file", func(t *testing.T) {
			r := e.exec(t, id, "sh", "-c", "cat /vol/dir/in-dir /vol/file; echo from-ctr >/vol/dir/new; echo appended >>/vol/file")
			if r.code != 0 || r.stdout != "from the host dir\nfrom the host file\n" {
				t.Errorf("reading the volumes:\n%s", r)
			}
			if data, _ := os.ReadFile(filepath.Join(v.dir, "dir", "new")); string(data) != "from-ctr\n" {
				t.Errorf("the container's write to the dir volume: host has %q", data)
			}
			if data, _ := os.ReadFile(filepath.Join(v.dir, "file")); string(data) != "from the host file\nappended\n" {
				t.Errorf("the container's write to the file volume: host has %q", data)
			}
		})
		// A mount the host makes below each volume after the start.
		for _, d := range []string{"private", "h2c", "bidir"} {
			v.hostMount(t, d)
		}
		t.Run("private: a host mount made after start is not seen", func(t *testing.T) {
			if got := v.seen(t, id, "private"); got != "absent\n" {
				t.Errorf("the container sees the host's later mount: %q", got)
			}
		})
		t.Run("HostToContainer: a host mount made after start is seen", func(t *testing.T) {
			if got := v.seen(t, id, "h2c"); got != "host-h2c\n" {
				t.Errorf("the container does not see the host's later mount: %q", got)
			}
		})
		t.Run("Bidirectional: host mounts are seen inside, container mounts outside", func(t *testing.T) {
			if got := v.seen(t, id, "bidir"); got != "host-bidir\n" {
				t.Errorf("the container does not see the host's later mount: %q", got)
			}
			if r := e.exec(t, id, "sh", "-c", "mkdir /vol/bidir/c && mount -t tmpfs ctrmnt /vol/bidir/c && echo ctr >/vol/bidir/c/probe"); r.code != 0 {
				t.Fatalf("mount in the container:\n%s", r)
			}
			if data, _ := os.ReadFile(filepath.Join(v.dir, "bidir", "c", "probe")); string(data) != "ctr\n" {
				t.Errorf("the host does not see the container's mount: %q", data)
			}
		})
		v.remove(t, p)
	})

	t.Run("nothing left behind", func(t *testing.T) {
		if left := e.leftovers(t); len(left) > 0 {
			t.Errorf("left behind:\n%s", strings.Join(left, "\n"))
		}
	})
}

// volumeSet is a directory of hostPath volumes on a tmpfs made rshared,
// as kubelet's root is: containerd refuses HostToContainer and
// Bidirectional volumes on a private mount.
type volumeSet struct {
	e   *criEnv
	dir string
}

// volumes makes e.dir/vol with the directories dirs (and a file "file").
func (e *criEnv) volumes(t *testing.T, dirs ...string) *volumeSet {
	t.Helper()
	v := &volumeSet{e: e, dir: filepath.Join(e.dir, "vol")}
	if err := os.Mkdir(v.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("vol", v.dir, "tmpfs", 0, "mode=755"); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("", v.dir, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if err := os.Mkdir(filepath.Join(v.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(v.dir, "file"), "")
	return v
}

// run runs a privileged pod and container (it may mount) with each volume
// at /vol/NAME with its propagation (0 private, 1 HostToContainer, 2
// Bidirectional).
func (v *volumeSet) run(t *testing.T, name string, vols map[string]int) (*pod, string) {
	t.Helper()
	var mounts []map[string]any
	for n, prop := range vols {
		mounts = append(mounts, map[string]any{"host_path": filepath.Join(v.dir, n), "container_path": "/vol/" + n, "propagation": prop})
	}
	p := v.e.runPod(t, v.e.podConfig(name).set("linux.security_context.privileged", true))
	id := v.e.start(t, p, v.e.containerConfig("c", "sleep", "3600").
		set("linux.security_context.privileged", true).set("mounts", mounts))
	return p, id
}

// hostMount mounts a tmpfs at volume d's m, with a file "probe".
func (v *volumeSet) hostMount(t *testing.T, d string) {
	t.Helper()
	m := filepath.Join(v.dir, d, "m")
	if err := os.Mkdir(m, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("hostmnt", m, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(m, "probe"), "host-"+d+"\n")
}

// seen is what the container reads of volume d's m/probe.
func (v *volumeSet) seen(t *testing.T, id, d string) string {
	t.Helper()
	return v.e.exec(t, id, "sh", "-c", "cat /vol/"+d+"/m/probe 2>/dev/null || echo absent").stdout
}

// remove removes the pod, the mounts made below the volumes, checks that
// nothing is left and unmounts the volumes.
func (v *volumeSet) remove(t *testing.T, p *pod) {
	t.Helper()
	v.e.must(t, "stopp", p.id)
	v.e.must(t, "rmp", p.id)
	mnts := mountsUnder(t, v.dir)
	for i := len(mnts) - 1; i >= 0; i-- {
		if mnts[i] != v.dir {
			unix.Unmount(mnts[i], unix.MNT_DETACH)
		}
	}
	if left := v.e.leftovers(t, v.dir); len(left) > 0 {
		t.Errorf("left behind after rmp:\n%s", strings.Join(left, "\n"))
	}
	if err := unix.Unmount(v.dir, unix.MNT_DETACH); err != nil {
		t.Error(err)
	}
}
