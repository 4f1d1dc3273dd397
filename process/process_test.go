package process

import (
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/procfs"
	"github.com/ctr-lite/ctr-lite/step"
)

func TestParseRlimit(t *testing.T) {
	tests := []struct {
		in   string
		want specs.POSIXRlimit
		err  string // substring of the error; "" for success
	}{
		{"RLIMIT_NOFILE=100:200", specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200}, ""},
		{"nofile=100", specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 100}, ""},
		{"CORE=0:unlimited", specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: Infinity}, ""},
		{"RLIMIT_STACK=unlimited", specs.POSIXRlimit{Type: "RLIMIT_STACK", Soft: Infinity, Hard: Infinity}, ""},
		{"RLIMIT_NPROC=-1:-1", specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: Infinity, Hard: Infinity}, ""},
		{"RLIMIT_BOGUS=1", specs.POSIXRlimit{}, "unknown resource RLIMIT_BOGUS"},
		{"RLIMIT_NOFILE=200:100", specs.POSIXRlimit{}, "soft limit 200 is above hard limit 100"},
		{"RLIMIT_NOFILE=unlimited:100", specs.POSIXRlimit{}, "soft limit unlimited is above hard limit 100"},
		{"RLIMIT_NOFILE", specs.POSIXRlimit{}, "want NAME=SOFT[:HARD]"},
		{"RLIMIT_NOFILE=", specs.POSIXRlimit{}, "want NAME=SOFT[:HARD]"},
		{"RLIMIT_NOFILE=ten", specs.POSIXRlimit{}, "soft: \"ten\" is not a number"},
		{"RLIMIT_NOFILE=1:x", specs.POSIXRlimit{}, "hard: \"x\" is not a number"},
	}
	for _, tt := range tests {
		got, err := ParseRlimit(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseRlimit(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRlimit(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestValidateRlimitsRejectsDuplicates(t *testing.T) {
	err := ValidateRlimits([]specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 1, Hard: 1}, {Type: "RLIMIT_NOFILE", Soft: 2, Hard: 2}})
	if err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate rlimit: %v", err)
	}
}

func TestValidateSysctl(t *testing.T) {
	ipc := []specs.LinuxNamespace{{Type: specs.IPCNamespace}}
	net := []specs.LinuxNamespace{{Type: specs.NetworkNamespace}}
	uts := []specs.LinuxNamespace{{Type: specs.UTSNamespace}}
	all := slices.Concat(ipc, net, uts)
	tests := []struct {
		name string
		nss  []specs.LinuxNamespace
		err  string
	}{
		{"kernel.shmmax", ipc, ""},
		{"kernel.msgmnb", ipc, ""},
		{"kernel.sem", ipc, ""},
		{"kernel.shm_rmid_forced", ipc, ""},
		{"fs.mqueue.msg_max", ipc, ""},
		{"net.ipv4.ip_forward", net, ""},
		{"net.ipv4.conf.all.rp_filter", all, ""},
		{"kernel.hostname", uts, ""},
		{"kernel.domainname", uts, ""},
		{"kernel.shmmax", nil, "needs a ipc namespace"},
		{"fs.mqueue.msg_max", net, "needs a ipc namespace"},
		{"net.core.somaxconn", ipc, "needs a network namespace"},
		{"kernel.domainname", ipc, "needs a uts namespace"},
		{"vm.swappiness", all, "not namespaced"},
		{"kernel.pid_max", all, "not namespaced"},
		{"kernel.semx", all, "not namespaced"},
		{"fs.mqueue", all, "not namespaced"},
		{"net..ipv4", all, `contains ".."`},
		{"net.ipv4.../../../kernel.core_pattern", all, `contains ".."`},
		{"net/ipv4/ip_forward", all, "want a dotted name"},
		{"net.ipv4.", all, "empty component"},
		{"", all, "want a dotted name"},
	}
	for _, tt := range tests {
		err := ValidateSysctl(tt.name, tt.nss)
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("ValidateSysctl(%q, %v) = %v, want %q", tt.name, tt.nss, err, tt.err)
		}
	}
	if p, _ := procfs.SysctlPath("net.ipv4.ip_forward"); p != "sys/net/ipv4/ip_forward" {
		t.Errorf("SysctlPath = %q", p)
	}
}

func TestResolveUserFromRootfsFiles(t *testing.T) {
	const root = "testdata/rootfs"
	tests := []struct {
		spec   string
		base   specs.User
		groups []string
		uid    uint32
		gid    uint32
		sgids  []uint32
		home   string
		err    string
	}{
		{spec: "alice", uid: 1000, gid: 1000, sgids: []uint32{10, 29}, home: "/home/alice"},
		{spec: "1000", uid: 1000, gid: 1000, sgids: []uint32{10, 29}, home: "/home/alice"},
		{spec: "alice:staff", uid: 1000, gid: 50, home: "/home/alice"},
		{spec: "bob:1234", uid: 1001, gid: 1234, home: "/home/bob"},
		{spec: "1000:1000", groups: []string{"10", "20"}, uid: 1000, gid: 1000, sgids: []uint32{10, 20}, home: "/home/alice"},
		{spec: "4242", uid: 4242, gid: 0, home: "/"},
		{spec: "4242:4343", groups: []string{"audio", "4343"}, uid: 4242, gid: 4343, sgids: []uint32{29, 4343}, home: "/"},
		{spec: "bob", groups: []string{"audio"}, uid: 1001, gid: 1001, sgids: []uint32{29}, home: "/home/bob"},
		{base: specs.User{UID: 1001, GID: 7, AdditionalGids: []uint32{5}}, uid: 1001, gid: 7, sgids: []uint32{5}, home: "/home/bob"},
		{base: specs.User{UID: 0, GID: 0}, uid: 0, gid: 0, home: "/root"},
		{spec: "mallory", err: `user "mallory": no such user`},
		{spec: "alice:nogrp", err: `group "nogrp": no such group`},
		{spec: "alice", groups: []string{"nogrp"}, err: `group "nogrp": no such group`},
		{spec: "broken", err: `user "broken": /etc/passwd: uid "notanumber" is not a number`},
		{base: specs.User{UID: 4294967295}, err: "process.user.uid 4294967295: out of range 0..2147483647"},
		{base: specs.User{GID: 1 << 31}, err: "process.user.gid 2147483648: out of range"},
		{base: specs.User{AdditionalGids: []uint32{5, 4294967295}}, err: "process.user.additionalGids[1] 4294967295: out of range"},
		{spec: "4294967296", err: "out of range"},
		{spec: "1:2147483648", err: "out of range"},
		{spec: ":1", err: "empty user name"},
	}
	for _, tt := range tests {
		u, err := resolveUser(root, tt.spec, tt.base, tt.groups)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.spec, err)
			continue
		}
		if u.UID != tt.uid || u.GID != tt.gid || !slices.Equal(u.Groups, tt.sgids) || u.Home != tt.home {
			t.Errorf("%q %v: got uid %d gid %d groups %v home %q; want %d %d %v %q",
				tt.spec, tt.groups, u.UID, u.GID, u.Groups, u.Home, tt.uid, tt.gid, tt.sgids, tt.home)
		}
	}
}

func TestResolveUserWithoutEtcFiles(t *testing.T) {
	u, err := resolveUser(t.TempDir(), "123:456", specs.User{}, nil)
	if err != nil || u.UID != 123 || u.GID != 456 || u.Home != "/" {
		t.Fatalf("scratch rootfs: %+v %v", u, err)
	}
	if _, err := resolveUser(t.TempDir(), "alice", specs.User{}, nil); err == nil {
		t.Fatal("name resolved without /etc/passwd")
	}
}

func TestResolveRejectsBadConfig(t *testing.T) {
	base := func() Config {
		return Config{Process: specs.Process{Args: []string{"/bin/sh"}, Cwd: "/"}, Root: "testdata/rootfs"}
	}
	neg := -1001
	tests := []struct {
		name string
		mod  func(*Config)
		err  string
	}{
		{"relative cwd", func(c *Config) { c.Process.Cwd = "tmp" }, `cwd "tmp" is relative`},
		{"no args", func(c *Config) { c.Process.Args = nil }, "no command"},
		{"hostname without uts", func(c *Config) { c.Hostname = "box" }, "new UTS namespace"},
		{"oom out of range", func(c *Config) { c.Process.OOMScoreAdj = &neg }, "out of range"},
		{"keep fd 1", func(c *Config) { c.KeepFDs = []int{1} }, "keep fd 1"},
		{"sysctl", func(c *Config) { c.Sysctl = map[string]string{"vm.swappiness": "1"} }, "not namespaced"},
		{"rlimit", func(c *Config) { c.Process.Rlimits = []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 2, Hard: 1}} }, "above hard"},
		{"user", func(c *Config) { c.UserSpec = "mallory" }, "no such user"},
		{"exe", func(c *Config) { c.Process.Args = []string{"no-such-program-ctr-lite"} }, "not found in $PATH"},
	}
	for _, tt := range tests {
		c := base()
		tt.mod(&c)
		if _, err := Resolve(c); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.err)
		}
	}
}

func TestFinalEnvAddsPathAndHome(t *testing.T) {
	got := finalEnv([]string{"FOO=bar"}, "/home/alice")
	want := []string{"FOO=bar", "PATH=" + DefaultPath, "HOME=/home/alice"}
	if !slices.Equal(got, want) {
		t.Errorf("finalEnv = %q, want %q", got, want)
	}
	got = finalEnv([]string{"PATH=/x", "HOME=/h"}, "/home/alice")
	if !slices.Equal(got, []string{"PATH=/x", "HOME=/h"}) {
		t.Errorf("finalEnv kept = %q", got)
	}
}

// The order is the contract with caps and seccomp: their slots must land
// where the package doc says.
func TestStepsOrder(t *testing.T) {
	mark := func(op string) []step.Step { return []step.Step{{Op: op}} }
	umask := uint32(0o22)
	adj := 10
	cfg := Config{
		Process: specs.Process{
			Args: []string{"/bin/sh"}, Cwd: "/",
			User:            specs.User{UID: 1000, GID: 1000, Umask: &umask},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Soft: 10, Hard: 10}},
			OOMScoreAdj:     &adj,
			NoNewPrivileges: true,
		},
		Hostname:   "box",
		Sysctl:     map[string]string{"kernel.shmmax": "1"},
		Namespaces: []specs.LinuxNamespace{{Type: specs.UTSNamespace}, {Type: specs.IPCNamespace}},
		Root:       "testdata/rootfs",
		BeforeUser: mark("CAPS-BOUNDING"), AfterUser: mark("CAPS-APPLY"), Last: mark("SECCOMP"),
	}
	steps, r, err := Steps(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, s := range steps {
		op, _, _ := strings.Cut(s.Op, " /proc/")
		ops = append(ops, op+" "+firstWord(s.Args))
	}
	want := []string{
		"sethostname \"box\"", "write \"1\"", "prlimit 0,", "write 10", "close_range 3..~0,", "chdir \"/\"",
		"CAPS-BOUNDING ", "prctl PR_SET_KEEPCAPS,", "setgroups []", "setresgid 1000", "setresuid 1000", "prctl PR_SET_KEEPCAPS,",
		"CAPS-APPLY ", "chdir \"/\"", "umask 022", "prctl PR_SET_NO_NEW_PRIVS,", "SECCOMP ", "execve \"/bin/sh\",",
	}
	if !slices.Equal(ops, want) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	if r.Home != "/home/alice" || !slices.Contains(r.Env, "HOME=/home/alice") {
		t.Errorf("resolved %+v", r)
	}
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}
