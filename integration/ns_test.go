package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const bb = "/bin/busybox"

// nsInode is the inode of /proc/PID/ns/KIND as this test sees it.
func nsInode(t *testing.T, pid, kind string) string {
	t.Helper()
	link, err := os.Readlink("/proc/" + pid + "/ns/" + kind)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// startSleeper starts "ctr-lite ns FLAGS -- busybox sh -c 'exec sleep
// 1000'" in the background and returns the pid of the sleep once it runs.
// Cleanup kills the sleep, which makes ctr-lite reap it and exit.
func startSleeper(t *testing.T, flags ...string) string {
	t.Helper()
	args := append(append([]string{"ns"}, flags...), "--", bb, "sh", "-c", "exec sleep 1000")
	cmd := exec.Command(binary, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := sleepChild(t, cmd)
	t.Cleanup(func() {
		syscall.Kill(pid, syscall.SIGKILL)
		if err := cmd.Wait(); err == nil {
			t.Errorf("ctr-lite exited 0 after its sleep was killed")
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("sleep %d left", pid)
		}
	})
	return strconv.Itoa(pid)
}

// sleepChild waits until ctr-lite's child runs sleep (comm "sleep", after
// the execve) and returns its pid. The deadline only avoids hanging.
func sleepChild(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, pid := range childrenOf(cmd.Process.Pid) {
			if comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(comm)) == "sleep" {
				return pid
			}
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("%v: no sleep child appeared", cmd.Args)
	return 0
}

// childrenOf lists the processes whose parent is ppid.
func childrenOf(ppid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...; comm may hold spaces: cut at the last ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
			out = append(out, pid)
		}
	}
	return out
}

// processesWith lists the processes with marker among their arguments.
func processesWith(t *testing.T, marker string) []int {
	t.Helper()
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(cl), marker) {
			out = append(out, pid)
		}
	}
	return out
}

func TestUserRunsShellInNewPIDNamespace(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "ns", "--new", "pid", "--", bb, "sh", "-c", "echo $$")
	if strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("$$ in a new pid namespace = %q, want 1", r.stdout)
	}
}

func TestUserSetsHostnameInNewUTSNamespace(t *testing.T) {
	requireRoot(t)
	before, _ := os.Hostname()
	r := mustCtrLite(t, "ns", "--new", "uts", "--hostname", "ctr-lite-box", "--", bb, "hostname")
	if strings.TrimSpace(r.stdout) != "ctr-lite-box" {
		t.Errorf("hostname inside = %q", r.stdout)
	}
	if after, _ := os.Hostname(); after != before {
		t.Errorf("host's hostname changed: %q -> %q", before, after)
	}
}

func TestUserSeesOnlyLoopbackInNewNetNamespace(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "ns", "--new", "net", "--", bb, "cat", "/proc/net/dev")
	var devs []string
	for _, line := range strings.Split(r.stdout, "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "|") {
			devs = append(devs, strings.TrimSpace(name))
		}
	}
	if strings.Join(devs, ",") != "lo" {
		t.Errorf("devices in a new net namespace = %v, want [lo]\n%s", devs, r.stdout)
	}
}

func TestUserMapsIDsInNewUserNamespace(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "ns", "--new", "user", "--uid-map", "0:100000:65536", "--gid-map", "0:200000:1000",
		"--", bb, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g")
	f := strings.Fields(r.stdout)
	if strings.Join(f, " ") != "0 100000 65536 0 200000 1000 0 0" {
		t.Errorf("uid_map, gid_map, id inside = %q", r.stdout)
	}
	// No maps given: root inside is the caller, like unshare -r.
	r = mustCtrLite(t, "ns", "--new", "user", "--", bb, "cat", "/proc/self/uid_map")
	if got, want := strings.Join(strings.Fields(r.stdout), " "), fmt.Sprintf("0 %d 1", os.Geteuid()); got != want {
		t.Errorf("default uid_map = %q, want %q", got, want)
	}
}

var allKinds = []string{"user", "ipc", "uts", "net", "pid", "cgroup", "time", "mnt"}

func TestUserCreatesEachKindOfNamespace(t *testing.T) {
	requireRoot(t)
	self := strconv.Itoa(os.Getpid())
	for _, k := range allKinds {
		t.Run(k, func(t *testing.T) {
			r := mustCtrLite(t, "ns", "--new", k, "--", bb, "readlink", "/proc/self/ns/"+k)
			got, ours := strings.TrimSpace(r.stdout), nsInode(t, self, k)
			if !strings.HasPrefix(got, k+":[") || got == ours {
				t.Errorf("child's %s namespace = %q, ours = %q: want a new one", k, got, ours)
			}
		})
	}
}

// readlinks prints "kind:[inode]" for each kind, from inside the command.
func readlinks(kinds []string) string {
	var b strings.Builder
	for _, k := range kinds {
		b.WriteString("readlink /proc/self/ns/" + k + "; ")
	}
	return b.String()
}

func TestUserJoinsEveryKindOfARunningProcess(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, "--new", strings.Join(allKinds, ","))
	args := []string{"ns"}
	for _, k := range allKinds {
		args = append(args, "--join", k+"=/proc/"+target+"/ns/"+k)
	}
	r := mustCtrLite(t, append(args, "--", bb, "sh", "-c", readlinks(allKinds)+"echo $$")...)
	lines := strings.Fields(r.stdout)
	if len(lines) != len(allKinds)+1 {
		t.Fatalf("output: %s", r)
	}
	for i, k := range allKinds {
		if want := nsInode(t, target, k); lines[i] != want {
			t.Errorf("joined %s = %s, target's = %s", k, lines[i], want)
		}
	}
	// The sleeper is PID 1 of that pid namespace; the joiner is another.
	if lines[len(allKinds)] == "1" {
		t.Errorf("joiner is PID 1 of the joined pid namespace")
	}
}

func TestUserJoinsNetUTSAndMountOfRunningSleep(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, "--new", "net,uts,mnt", "--hostname", "sleeper")
	kinds := []string{"net", "uts", "mnt"}
	r := mustCtrLite(t, "ns", "--join", "net=/proc/"+target+"/ns/net", "--join", "uts=/proc/"+target+"/ns/uts",
		"--join", "mnt=/proc/"+target+"/ns/mnt", "--", bb, "sh", "-c", readlinks(kinds)+"hostname")
	lines := strings.Fields(r.stdout)
	if len(lines) != 4 || lines[3] != "sleeper" {
		t.Fatalf("output: %s", r)
	}
	for i, k := range kinds {
		if want := nsInode(t, target, k); lines[i] != want {
			t.Errorf("joined %s = %s, target's = %s", k, lines[i], want)
		}
	}
}

// A user or time namespace can only be joined by a single-threaded
// process: the case Go's os/exec cannot do.
func TestUserJoinsUserAndTimeNamespaces(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, "--new", "user,time", "--uid-map", "0:100000:65536", "--gid-map", "0:100000:65536")
	kinds := []string{"user", "time"}
	r := mustCtrLite(t, "ns", "--join", "user=/proc/"+target+"/ns/user", "--join", "time=/proc/"+target+"/ns/time",
		"--", bb, "sh", "-c", readlinks(kinds)+"cat /proc/self/uid_map; id -u")
	f := strings.Fields(r.stdout)
	if len(f) != 6 || f[2] != "0" || f[3] != "100000" || f[4] != "65536" || f[5] != "0" {
		t.Fatalf("output: %s", r)
	}
	for i, k := range kinds {
		if want := nsInode(t, target, k); f[i] != want {
			t.Errorf("joined %s = %s, target's = %s", k, f[i], want)
		}
	}
}

func TestUserShowsNamespacesOfAProcess(t *testing.T) {
	requireRoot(t)
	target := startSleeper(t, "--new", "uts,net")
	r := mustCtrLite(t, "ns", "show", target)
	rows := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
		f := strings.Fields(line)
		rows[f[0]] = f[1:]
	}
	for _, k := range allKinds {
		row, ok := rows[k]
		if !ok {
			t.Errorf("no %s row:\n%s", k, r.stdout)
			continue
		}
		if want := nsInode(t, target, k); k+":["+row[0]+"]" != want {
			t.Errorf("%s inode %s, /proc says %s", k, row[0], want)
		}
		own := row[1] == "own"
		if isNew := k == "uts" || k == "net"; own != isNew {
			t.Errorf("%s shown as %q", k, strings.Join(row[1:], " "))
		}
	}
	r = mustCtrLite(t, "ns", "show", "--format", "json", target)
	var infos []struct {
		Kind   string
		Inode  uint64
		Shared bool
	}
	if err := json.Unmarshal([]byte(r.stdout), &infos); err != nil {
		t.Fatalf("json: %v\n%s", err, r.stdout)
	}
	if len(infos) != len(allKinds) {
		t.Fatalf("json has %d entries:\n%s", len(infos), r.stdout)
	}
	for _, in := range infos {
		if want := nsInode(t, target, in.Kind); fmt.Sprintf("%s:[%d]", in.Kind, in.Inode) != want {
			t.Errorf("json %s inode %d, /proc says %s", in.Kind, in.Inode, want)
		}
		if isNew := in.Kind == "uts" || in.Kind == "net"; in.Shared == isNew {
			t.Errorf("json %s shared = %v", in.Kind, in.Shared)
		}
	}
	wantFail(t, []string{"ns", "show", "999999999"}, "999999999")
}

func TestUserSeesCommandExitStatus(t *testing.T) {
	requireRoot(t)
	if r := ctrLite(t, "ns", "--new", "pid", "--", bb, "sh", "-c", "exit 3"); r.code != 3 || r.stderr != "" {
		t.Errorf("exit 3: %s", r)
	}
	// Not in a new pid namespace: PID 1 would be immune to its own SIGKILL.
	if r := ctrLite(t, "ns", "--new", "uts", "--", bb, "sh", "-c", "kill -9 $$"); r.code != 137 {
		t.Errorf("killed by SIGKILL: %s", r)
	}
}

func TestUserInterruptsCommand(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command(binary, "ns", "--new", "uts", "--", bb, "sh", "-c", "exec sleep 1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := sleepChild(t, cmd)
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 128+int(syscall.SIGTERM) {
		t.Errorf("ctr-lite after SIGTERM: %v, want exit 143 (the forwarded signal killed sleep)", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
		t.Errorf("sleep %d left", pid)
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

func TestUserGivesBadNamespaceInput(t *testing.T) {
	requireRoot(t)
	notNS := t.TempDir() + "/file"
	if err := os.WriteFile(notNS, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown kind", []string{"--new", "foo"}, []string{`unknown namespace kind "foo"`}},
		{"unknown join kind", []string{"--join", "bar=/proc/self/ns/net"}, []string{`"bar"`}},
		{"missing join file", []string{"--join", "net=/nonexistent"}, []string{"/nonexistent", "no such file"}},
		{"not a ns file", []string{"--join", "net=" + notNS}, []string{notNS, "not a namespace file"}},
		{"wrong kind of ns file", []string{"--join", "net=/proc/self/ns/uts"}, []string{"is a uts namespace"}},
		{"hostname without uts", []string{"--hostname", "h"}, []string{"needs a new uts namespace"}},
		{"same kind twice", []string{"--new", "pid", "--join", "pid=/proc/self/ns/pid"}, []string{"pid listed twice"}},
		{"bad map", []string{"--new", "user", "--uid-map", "0:1000"}, []string{"--uid-map", "0:1000"}},
		{"map without user", []string{"--uid-map", "0:1000:1"}, []string{"new user namespace"}},
		// Fails in the child, after the fork: execve of a path missing in
		// the joined mount namespace; the intermediate process is reaped.
		{"missing program after join", []string{"--new", "pid", "--join", "mnt=/proc/self/ns/mnt", "--", "/nonexistent/prog"},
			[]string{"execve", "/nonexistent/prog", "no such file"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			marker := fmt.Sprintf("ctr-lite-ns-bad-%d", time.Now().UnixNano())
			args := append([]string{"ns"}, tc.args...)
			if len(tc.args) == 0 || tc.args[len(tc.args)-2] != "--" {
				args = append(args, "--", bb, "sh", "-c", "sleep 1000")
			}
			wantFail(t, append(args, marker), tc.want...)
			if left := processesWith(t, marker); len(left) > 0 {
				t.Errorf("processes left: %v", left)
			}
		})
	}
	r := wantFail(t, []string{"ns", "--new", "uts"}, "missing command")
	if r.code != 2 {
		t.Errorf("missing command: exit %d, want 2", r.code)
	}
	wantFail(t, []string{"ns", "--new", "uts", "--", "no-such-program-xyz"}, "no-such-program-xyz", "not found")
}

// TestUserRunsNsWithUnshareFlags: what a learner types for unshare(1)
// (--uts --pid --fork, --mount, --user --map-root-user, ...) makes the
// same namespaces here as --new does.
func TestUserRunsNsWithUnshareFlags(t *testing.T) {
	requireRoot(t)
	self := strconv.Itoa(os.Getpid())
	flagKind := map[string]string{"--mount": "mnt", "--uts": "uts", "--ipc": "ipc", "--net": "net",
		"--pid": "pid", "--user": "user", "--cgroup": "cgroup", "--time": "time"}
	for fl, k := range flagKind {
		t.Run(fl, func(t *testing.T) {
			r := mustCtrLite(t, "ns", fl, "--", bb, "sh", "-c", readlinks(allKinds))
			got := strings.Fields(r.stdout)
			if len(got) != len(allKinds) {
				t.Fatalf("readlinks inside: %q", r.stdout)
			}
			for i, kind := range allKinds {
				own := got[i] != nsInode(t, self, kind)
				if own != (kind == k) {
					t.Errorf("ns %s: %s namespace %s, ours %s: want a new one only for %s", fl, kind, got[i], nsInode(t, self, kind), k)
				}
			}
		})
	}
	// unshare --uts --pid --fork --map-root-user: hostname set, PID 1, root.
	r := mustCtrLite(t, "ns", "--uts", "--pid", "--fork", "--user", "--map-root-user", "--hostname", "box",
		"--", bb, "sh", "-c", "hostname; echo $$; id -u; cat /proc/self/uid_map")
	if got, want := strings.Join(strings.Fields(r.stdout), " "), fmt.Sprintf("box 1 0 0 %d 1", os.Geteuid()); got != want {
		t.Errorf("ns --uts --pid --fork --user --map-root-user: %q, want %q", got, want)
	}
}
