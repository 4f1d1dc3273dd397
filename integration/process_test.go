package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestUserRunsShellWithProcessHygiene applies every piece of the last
// stage at once and checks what the kernel shows the program.
func TestUserRunsShellWithProcessHygiene(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "process", "--user", "1000:1000", "--groups", "10,20", "--cwd", "/tmp",
		"--env", "FOO=bar", "--rlimit", "RLIMIT_NOFILE=100:200", "--no-new-privs",
		"--oom-score-adj", "500", "--umask", "027", "--",
		"/bin/busybox", "sh", "-c",
		`id -u; id -g; cat /proc/self/status; echo "ulimit=$(ulimit -n)"; echo "pwd=$(pwd)"; echo "foo=$FOO"; `+
			`echo "umask=$(umask)"; echo "oom=$(cat /proc/self/oom_score_adj)"; cat /proc/self/limits; env`)
	for _, re := range []string{
		`(?m)^1000\n1000$`,                       // id -u, id -g
		`(?m)^Uid:\s+1000\s+1000\s+1000\s+1000$`, // real, effective, saved, fs
		`(?m)^Gid:\s+1000\s+1000\s+1000\s+1000$`,
		`(?m)^Groups:\s+10 20\s*$`,
		`(?m)^NoNewPrivs:\s+1$`,
		`(?m)^CapEff:\s+0000000000000000$`, // setuid to non-root emptied it
		`(?m)^Max open files\s+100\s+200\s+files`,
		`(?m)^ulimit=100$`,
		`(?m)^pwd=/tmp$`,
		`(?m)^foo=bar$`,
		`(?m)^umask=0027$`,
		`(?m)^oom=500$`,
		`(?m)^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$`, // default PATH
		`(?m)^HOME=/`, // from /etc/passwd, or / when uid 1000 is not there
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("output lacks %s:\n%s", re, r.stdout)
		}
	}
	// Only --env, PATH and HOME: nothing of ctr-lite's environment.
	if strings.Contains(r.stdout, "GOPATH=") || strings.Contains(r.stdout, "\nUSER=") {
		t.Errorf("host environment leaked:\n%s", r.stdout)
	}
}

// TestUserPassesOnlyKeptFDs: fds 3, 4 and 5 are open in ctr-lite (as a
// parent's would be); only --keep-fd 4 reaches the program.
func TestUserPassesOnlyKeptFDs(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	var files []*os.File
	for _, n := range []string{"marker-3", "marker-4", "marker-5"} {
		f, err := os.Create(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files = append(files, f)
	}
	run := func(args ...string) string {
		cmd := exec.Command(binary, append([]string{"process"}, args...)...)
		cmd.ExtraFiles = files // fds 3, 4, 5 in ctr-lite, without close-on-exec
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("ctr-lite process %v: %v\n%s", args, err, errb.String())
		}
		return out.String()
	}
	// The shell's own fds, listed through /proc/$$/fd by a child.
	script := `for f in /proc/$$/fd/*; do echo "$(basename $f) $(readlink $f)"; done`
	got := run("--keep-fd", "4", "--", "/bin/busybox", "sh", "-c", script)
	if !regexp.MustCompile(`(?m)^4 .*/marker-4$`).MatchString(got) {
		t.Errorf("kept fd 4 is not open in the program:\n%s", got)
	}
	for _, n := range []string{"marker-3", "marker-5"} {
		if strings.Contains(got, n) {
			t.Errorf("%s leaked into the program:\n%s", n, got)
		}
	}
	got = run("--", "/bin/busybox", "sh", "-c", script)
	if strings.Contains(got, "marker-") {
		t.Errorf("an fd leaked without --keep-fd:\n%s", got)
	}
}

// TestUserSetsSysctlsInOwnNamespaces: namespaced sysctls are written in
// new ipc and net namespaces and the host's values do not change.
func TestUserSetsSysctlsInOwnNamespaces(t *testing.T) {
	requireRoot(t)
	hostShm, err := os.ReadFile("/proc/sys/kernel/shmmni")
	if err != nil {
		t.Fatal(err)
	}
	hostFwd, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	fwd := "1"
	if strings.TrimSpace(string(hostFwd)) == "1" {
		fwd = "0"
	}
	r := mustCtrLite(t, "ns", "--new", "ipc,net", "--", binary, "process",
		"--sysctl", "kernel.shmmni=1234", "--sysctl", "net.ipv4.ip_forward="+fwd, "--",
		"/bin/busybox", "cat", "/proc/sys/kernel/shmmni", "/proc/sys/net/ipv4/ip_forward")
	if want := "1234\n" + fwd + "\n"; r.stdout != want {
		t.Errorf("inside: %q, want %q", r.stdout, want)
	}
	for f, before := range map[string][]byte{"/proc/sys/kernel/shmmni": hostShm, "/proc/sys/net/ipv4/ip_forward": hostFwd} {
		if now, _ := os.ReadFile(f); !bytes.Equal(now, before) {
			t.Errorf("host %s changed: %q -> %q", f, before, now)
		}
	}
}

// TestUserGivesBadProcessSettings: each mistake is one line naming it,
// exit non-zero, and the program never runs.
func TestUserGivesBadProcessSettings(t *testing.T) {
	requireRoot(t)
	marker := filepath.Join(t.TempDir(), "ran")
	prog := []string{"--", "/bin/busybox", "touch", marker}
	tests := []struct {
		name  string
		flags []string
		want  []string
	}{
		{"unknown rlimit", []string{"--rlimit", "RLIMIT_BOGUS=1"}, []string{"RLIMIT_BOGUS", "unknown resource"}},
		{"soft above hard", []string{"--rlimit", "RLIMIT_NOFILE=200:100"}, []string{"RLIMIT_NOFILE", "soft limit 200 is above hard limit 100"}},
		{"unknown user", []string{"--user", "no-such-user-ctr-lite"}, []string{`user "no-such-user-ctr-lite"`, "no such user"}},
		{"unknown group", []string{"--user", "0", "--groups", "no-such-group-ctr-lite"}, []string{"no such group"}},
		{"relative cwd", []string{"--cwd", "tmp"}, []string{`cwd "tmp" is relative`}},
		{"sysctl dotdot", []string{"--sysctl", "net.ipv4...kernel.x=1"}, []string{`contains ".."`}},
		{"sysctl not namespaced", []string{"--sysctl", "vm.swappiness=1"}, []string{"vm.swappiness", "not namespaced"}},
		{"sysctl host netns", []string{"--sysctl", "net.ipv4.ip_forward=1"}, []string{"net.ipv4.ip_forward", "network namespace"}},
		{"oom out of range", []string{"--oom-score-adj", "2000"}, []string{"oom_score_adj 2000"}},
		{"bad umask", []string{"--umask", "999"}, []string{"--umask"}},
		{"keep stdin", []string{"--keep-fd", "0"}, []string{"keep fd 0"}},
		{"no such program", []string{"--", "/no/such/program"}, []string{`"/no/such/program"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"process"}, tt.flags...)
			if tt.flags[len(tt.flags)-2] != "--" {
				args = append(args, prog...)
			}
			wantFail(t, args, tt.want...)
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("the program ran despite the error")
			}
		})
	}
}

// TestUserRaisesHardLimitWithoutCapSysResource: raising a hard limit
// needs CAP_SYS_RESOURCE. Without it (as on the dev hosts) the error says
// so; with it (as in the VM) the new limit is what the program gets.
func TestUserRaisesHardLimitWithoutCapSysResource(t *testing.T) {
	requireRoot(t)
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil {
		t.Fatal(err)
	}
	hard := cur.Max + 1
	args := []string{"process", "--rlimit", fmt.Sprintf("RLIMIT_NOFILE=10:%d", hard), "--",
		"/bin/busybox", "grep", "open files", "/proc/self/limits"}
	if !hasCap(t, capSysResource) {
		wantFail(t, args, "RLIMIT_NOFILE", "needs CAP_SYS_RESOURCE", strconv.FormatUint(hard, 10))
		return
	}
	r := mustCtrLite(t, args...)
	if !regexp.MustCompile(`Max open files\s+10\s+` + strconv.FormatUint(hard, 10) + `\s`).MatchString(r.stdout) {
		t.Errorf("limits: %s", r.stdout)
	}
}

// TestUserLowersOOMScoreAdj: lowering oom_score_adj needs
// CAP_SYS_RESOURCE too.
func TestUserLowersOOMScoreAdj(t *testing.T) {
	requireRoot(t)
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		t.Fatal(err)
	}
	cur, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	lower := strconv.Itoa(max(cur-100, -1000))
	args := []string{"process", "--oom-score-adj", lower, "--", "/bin/busybox", "cat", "/proc/self/oom_score_adj"}
	if !hasCap(t, capSysResource) {
		// Without it the kernel refuses a value below the lowest one a
		// process with it set for us (oom_score_adj_min, inherited, not
		// readable: 500 set without it lowers to 0 freely): -1000 is
		// below any but -1000.
		args[2] = "-1000"
		wantFail(t, args, "lowering oom_score_adj", "needs CAP_SYS_RESOURCE")
		return
	}
	if r := mustCtrLite(t, args...); strings.TrimSpace(r.stdout) != lower {
		t.Errorf("oom_score_adj %q, want %s", r.stdout, lower)
	}
}

const capSysResource = 24

// hasCap reads this test's effective capabilities from /proc/self/status.
func hasCap(t *testing.T, bit uint) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^CapEff:\s+([0-9a-f]+)$`).FindSubmatch(b)
	if m == nil {
		t.Fatal("no CapEff in /proc/self/status")
	}
	eff, err := strconv.ParseUint(string(m[1]), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return eff&(1<<bit) != 0
}
