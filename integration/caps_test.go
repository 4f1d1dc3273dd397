package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// capMasks reads the Cap* lines of a /proc/PID/status text.
func capMasks(t *testing.T, status string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(status, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.HasPrefix(k, "Cap") {
			m[k] = strings.TrimSpace(v)
		}
	}
	if len(m) != 5 {
		t.Fatalf("want 5 Cap lines in status:\n%s", status)
	}
	return m
}

func wantMasks(t *testing.T, got map[string]string, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s = %s, want %s", k, got[k], w)
		}
	}
}

func TestUserRunsCommandWithOnlyTwoCapabilities(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "caps", "--all", "CAP_CHOWN,CAP_KILL", "--", "/bin/busybox", "cat", "/proc/self/status")
	// CAP_CHOWN is bit 0, CAP_KILL bit 5.
	wantMasks(t, capMasks(t, r.stdout), map[string]string{
		"CapBnd": "0000000000000021", "CapEff": "0000000000000021", "CapPrm": "0000000000000021",
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
	})
}

func TestUserRaisesAmbientCapability(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "caps", "--all", "net_bind_service", "--inheritable", "net_bind_service",
		"--ambient", "CAP_NET_BIND_SERVICE", "--", "/bin/busybox", "cat", "/proc/self/status")
	// CAP_NET_BIND_SERVICE is bit 10: the ambient set survived execve.
	wantMasks(t, capMasks(t, r.stdout), map[string]string{
		"CapBnd": "0000000000000400", "CapEff": "0000000000000400", "CapPrm": "0000000000000400",
		"CapInh": "0000000000000400", "CapAmb": "0000000000000400",
	})
}

// An inheritable set the parent had is not passed on unless asked for
// (CVE-2022-29162): the outer run sets it, the inner one clears it.
func TestInheritableSetIsEmptyUnlessAsked(t *testing.T) {
	requireRoot(t)
	outer := []string{"caps", "--all", "CAP_SETPCAP,CAP_KILL,CAP_NET_BIND_SERVICE",
		"--inheritable", "CAP_NET_BIND_SERVICE", "--ambient", "CAP_NET_BIND_SERVICE", "--"}
	r := mustCtrLite(t, append(outer, "/bin/busybox", "cat", "/proc/self/status")...)
	wantMasks(t, capMasks(t, r.stdout), map[string]string{"CapInh": "0000000000000400", "CapAmb": "0000000000000400"})

	r = mustCtrLite(t, append(outer, binary, "caps", "--", "/bin/busybox", "cat", "/proc/self/status")...)
	wantMasks(t, capMasks(t, r.stdout), map[string]string{
		"CapInh": "0000000000000000", "CapAmb": "0000000000000000",
		"CapBnd": "0000000000000520", "CapEff": "0000000000000520", "CapPrm": "0000000000000520",
	})
}

func TestDroppedChownCapabilityStopsChown(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	allowed, denied := filepath.Join(dir, "allowed"), filepath.Join(dir, "denied")
	for _, f := range []string{allowed, denied} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mustCtrLite(t, "caps", "--drop", "none", "--", "/bin/busybox", "chown", "1", allowed)
	r := ctrLite(t, "caps", "--drop", "CAP_CHOWN", "--", "/bin/busybox", "chown", "1", denied)
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("chown without CAP_CHOWN: %s", r)
	}
	if uid := ownerOf(t, allowed); uid != 1 {
		t.Errorf("chown with CAP_CHOWN: owner %d, want 1", uid)
	}
	if uid := ownerOf(t, denied); uid != 0 {
		t.Errorf("chown without CAP_CHOWN: owner %d, want 0", uid)
	}
}

func ownerOf(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid
}

func TestDroppedChrootCapabilityStopsChroot(t *testing.T) {
	requireRoot(t)
	chroot := []string{"--", "/bin/busybox", "chroot", "/", "/bin/busybox", "true"}
	mustCtrLite(t, append([]string{"caps", "--drop", "CAP_CHOWN"}, chroot...)...)
	r := ctrLite(t, append([]string{"caps", "--drop", "CAP_SYS_CHROOT"}, chroot...)...)
	if r.code == 0 || !strings.Contains(r.stderr, "Operation not permitted") {
		t.Errorf("chroot without CAP_SYS_CHROOT: %s", r)
	}
}

// A capability dropped from the bounding and permitted sets cannot be
// taken back, even by a root process asking for it.
func TestDroppedCapabilityCannotComeBack(t *testing.T) {
	requireRoot(t)
	inner := []string{"--", binary, "caps", "--all", "CAP_CHOWN,CAP_SETPCAP", "--", "/bin/busybox", "true"}
	mustCtrLite(t, append([]string{"caps", "--drop", "CAP_KILL"}, inner...)...)
	r := ctrLite(t, append([]string{"caps", "--drop", "CAP_CHOWN"}, inner...)...)
	want := "ctr-lite: capset effective=CAP_CHOWN,CAP_SETPCAP permitted=CAP_CHOWN,CAP_SETPCAP inheritable=none: operation not permitted (CAP_CHOWN not in this thread's permitted set, which can only shrink)"
	if r.code == 0 || strings.TrimSpace(r.stderr) != want {
		t.Errorf("regain CAP_CHOWN: %s\nwant error %q", r, want)
	}
}

func TestUserShowsCapabilitiesOfAProcess(t *testing.T) {
	requireRoot(t)
	// The shell prints "ready" once it runs with its final capabilities.
	cmd := exec.Command(binary, "caps", "--all", "CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE", "--inheritable", "CAP_KILL",
		"--", "/bin/busybox", "sh", "-c", "echo ready; read line")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("child said %q, %v", line, err)
	}
	pid := strconv.Itoa(cmd.Process.Pid)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatal(err)
	}
	proc := capMasks(t, string(status))

	r := mustCtrLite(t, "caps", "show", "--format", "json", pid)
	type set struct {
		Mask string
		Caps []string
	}
	var out struct {
		Pid                                                  int
		Inheritable, Permitted, Effective, Bounding, Ambient *set
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if strconv.Itoa(out.Pid) != pid {
		t.Errorf("pid %d, want %s", out.Pid, pid)
	}
	shown := map[string]*set{"inheritable": out.Inheritable, "permitted": out.Permitted,
		"effective": out.Effective, "bounding": out.Bounding, "ambient": out.Ambient}
	for field, name := range map[string]string{"CapInh": "inheritable", "CapPrm": "permitted", "CapEff": "effective", "CapBnd": "bounding", "CapAmb": "ambient"} {
		if shown[name] == nil {
			t.Fatalf("no %s in\n%s", name, r.stdout)
		}
		if shown[name].Mask != proc[field] {
			t.Errorf("%s: show says %s, /proc says %s", name, shown[name].Mask, proc[field])
		}
	}
	if got := strings.Join(shown["effective"].Caps, ","); got != "CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE" {
		t.Errorf("effective caps %s", got)
	}
	if got := strings.Join(shown["inheritable"].Caps, ","); got != "CAP_KILL" {
		t.Errorf("inheritable caps %s", got)
	}
	if shown["ambient"].Caps == nil || len(shown["ambient"].Caps) != 0 {
		t.Errorf("ambient caps %v, want []", shown["ambient"].Caps)
	}

	text := mustCtrLite(t, "caps", "show", pid).stdout
	for _, want := range []string{
		"CapEff effective   0000000000000421 CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE\n",
		"CapInh inheritable 0000000000000020 CAP_KILL\n",
		"CapAmb ambient     0000000000000000 -\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("caps show lacks %q:\n%s", want, text)
		}
	}
}

func TestUserDecodesMask(t *testing.T) {
	if out := mustCtrLite(t, "caps", "decode", "3").stdout; out != "CAP_CHOWN\nCAP_DAC_OVERRIDE\n" {
		t.Errorf("decode 3 = %q", out)
	}
	out := mustCtrLite(t, "caps", "decode", "0x00000000a80425fb").stdout
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 14 || lines[0] != "CAP_CHOWN" || lines[13] != "CAP_SETFCAP" {
		t.Errorf("docker default mask decodes to %d lines:\n%s", len(lines), out)
	}
}

func TestUserListsCapabilities(t *testing.T) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	last, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	out := mustCtrLite(t, "caps", "list").stdout
	yes := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "yes" {
			if f[0] != strconv.Itoa(yes) {
				t.Errorf("line %q out of order", line)
			}
			yes++
		}
	}
	if yes != last+1 {
		t.Errorf("%d capabilities marked yes, kernel has %d:\n%s", yes, last+1, out)
	}
	if !strings.Contains(out, "\n21  CAP_SYS_ADMIN ") {
		t.Errorf("list lacks CAP_SYS_ADMIN as 21:\n%s", out)
	}
}

func TestUserExplainsCapabilitySteps(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "caps", "--explain", "--all", "CAP_KILL", "--", "/bin/busybox", "true")
	for _, want := range []string{
		"explain[caps]: prctl(PR_CAPBSET_DROP, {all but CAP_KILL})",
		"-> CapBnd 0000000000000020 = CAP_KILL",
		"explain[caps]: capset(effective=CAP_KILL permitted=CAP_KILL inheritable=none)",
		"explain[caps]: prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)",
		`explain[caps]: execve("/bin/busybox"`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--explain lacks %q:\n%s", want, r.stderr)
		}
	}
}

func TestUserGivesBadCapabilityInput(t *testing.T) {
	requireRoot(t)
	marker := filepath.Join(t.TempDir(), "ran")
	touch := []string{"--", "/bin/busybox", "touch", marker}
	for _, tc := range []struct {
		name string
		args []string
		want []string
		code int
	}{
		{"unknown name", append([]string{"caps", "--all", "CAP_CHOWN,CAP_SYS_ADMN"}, touch...), []string{`unknown capability "CAP_SYS_ADMN"`, "--all"}, 1},
		{"unknown name in drop", append([]string{"caps", "--drop", "frobnicate"}, touch...), []string{`unknown capability "frobnicate"`}, 1},
		{"ambient not inheritable", append([]string{"caps", "--ambient", "CAP_KILL"}, touch...), []string{"ambient CAP_KILL not in both permitted and inheritable"}, 1},
		{"effective not permitted", append([]string{"caps", "--permitted", "kill", "--effective", "kill,chown"}, touch...), []string{"effective CAP_CHOWN not in permitted"}, 1},
		{"missing command", []string{"caps", "--all", "CAP_KILL"}, []string{"missing command"}, 2},
		{"unknown executable", []string{"caps", "--", "/nonexistent/prog"}, []string{`"/nonexistent/prog"`, "no such file"}, 1},
		{"bad hex", []string{"caps", "decode", "0xZZ"}, []string{`bad capability mask "0xZZ"`}, 1},
		{"decode without mask", []string{"caps", "decode"}, []string{"decode takes one HEX"}, 2},
		{"unknown pid", []string{"caps", "show", "2147483647"}, []string{"pid 2147483647", "no such file"}, 1},
		{"bad pid", []string{"caps", "show", "self"}, []string{`bad pid "self"`}, 2},
		{"bad format", []string{"caps", "show", "--format", "xml", "1"}, []string{`"xml"`}, 2},
		{"set flag with show", []string{"caps", "--all", "kill", "show", "1"}, []string{"--all is for running a command"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := wantFail(t, tc.args, tc.want...)
			if r.code != tc.code {
				t.Errorf("exit %d, want %d", r.code, tc.code)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("the command ran despite the error")
			}
		})
	}
}

// A config may name a capability this ctr-lite or this kernel does not
// know (a typo, or one newer than both, as an orchestrator built for a
// newer kernel passes): runc 1.1 leaves it out with one warning and runs
// the container with the rest; so does create, and exec --cap.
func TestUserRunsContainerWithUnknownCapabilityIgnored(t *testing.T) {
	b := newBundle(t, "capfly", "sh", "-c", "grep CapBnd /proc/self/status")
	want := b.must("run", "--bundle", b.dir, b.id+"-plain").stdout
	c := b.spec.Process.Capabilities
	c.Bounding = append(c.Bounding, "CAP_FLY", "CAP_SWIM")
	c.Effective = append(c.Effective, "CAP_FLY")
	c.Permitted = append(c.Permitted, "CAP_FLY")
	b.write()
	r := b.must("run", "--bundle", b.dir, b.id)
	if r.stdout != want {
		t.Errorf("with unknown names the bounding set is %q, want %q (the known ones)", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "ignoring unknown or unavailable capabilities: [CAP_FLY CAP_SWIM]") {
		t.Errorf("no runc warning naming the ignored capabilities once each:\n%s", r)
	}
	b.spec.Process.Args = []string{"sleep", "1000"}
	b.write()
	b.mustDetached("run", "-d", "--bundle", b.dir, b.id+"-exec")
	e := b.must("exec", "--cap", "CAP_FLY", b.id+"-exec", "true")
	if !strings.Contains(e.stderr, "ignoring unknown or unavailable capabilities: [CAP_FLY CAP_SWIM]") {
		t.Errorf("exec --cap CAP_FLY: no runc warning:\n%s", e)
	}
	b.must("delete", "--force", b.id+"-exec")
	b.wantNothingLeft()
}
