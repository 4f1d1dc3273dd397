package namespaces

import (
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseKind(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Kind
		flag uintptr
		spec specs.LinuxNamespaceType
	}{
		{"mount", Mount, unix.CLONE_NEWNS, specs.MountNamespace},
		{"mnt", Mount, unix.CLONE_NEWNS, specs.MountNamespace},
		{"network", Net, unix.CLONE_NEWNET, specs.NetworkNamespace},
		{"net", Net, unix.CLONE_NEWNET, specs.NetworkNamespace},
		{"uts", UTS, unix.CLONE_NEWUTS, specs.UTSNamespace},
		{"ipc", IPC, unix.CLONE_NEWIPC, specs.IPCNamespace},
		{"pid", PID, unix.CLONE_NEWPID, specs.PIDNamespace},
		{"user", User, unix.CLONE_NEWUSER, specs.UserNamespace},
		{"cgroup", Cgroup, unix.CLONE_NEWCGROUP, specs.CgroupNamespace},
		{"time", Time, unix.CLONE_NEWTIME, specs.TimeNamespace},
	} {
		k, err := ParseKind(tc.in)
		if err != nil {
			t.Errorf("ParseKind(%q): %v", tc.in, err)
			continue
		}
		if k != tc.want || k.Flag() != tc.flag || k.SpecType() != tc.spec {
			t.Errorf("ParseKind(%q) = %v (flag %#x, spec %q), want %v (%#x, %q)",
				tc.in, k, k.Flag(), k.SpecType(), tc.want, tc.flag, tc.spec)
		}
	}
}

func TestParseKindRejectsUnknown(t *testing.T) {
	for _, in := range []string{"foo", "", "NET", "networks", "pid_for_children"} {
		_, err := ParseKind(in)
		if err == nil || !strings.Contains(err.Error(), "unknown namespace kind") || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Errorf("ParseKind(%q) error = %v, want one naming it", in, err)
		}
	}
}

func TestParseKinds(t *testing.T) {
	ks, err := ParseKinds("mnt, uts,,network")
	if err != nil || len(ks) != 3 || ks[0] != Mount || ks[1] != UTS || ks[2] != Net {
		t.Errorf("ParseKinds = %v, %v", ks, err)
	}
	if _, err := ParseKinds("mnt,bogus"); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("ParseKinds(mnt,bogus) error = %v", err)
	}
}

// The user namespace must be joined first and the mount namespace last.
func TestKindsInJoinOrder(t *testing.T) {
	ks := Kinds()
	if len(ks) != 8 || ks[0] != User || ks[len(ks)-1] != Mount {
		t.Errorf("Kinds() = %v", ks)
	}
	seen := map[string]bool{}
	for _, k := range ks {
		if seen[k.String()] {
			t.Errorf("%v twice", k)
		}
		seen[k.String()] = true
	}
}

func TestProcPath(t *testing.T) {
	if got := Mount.ProcPath(42); got != "/proc/42/ns/mnt" {
		t.Errorf("Mount.ProcPath(42) = %q", got)
	}
	if got := Net.ProcPath(1); got != "/proc/1/ns/net" {
		t.Errorf("Net.ProcPath(1) = %q", got)
	}
}

func TestFormatFlags(t *testing.T) {
	for _, tc := range []struct {
		in   uintptr
		want string
	}{
		{0, "0"},
		{unix.CLONE_NEWNS, "CLONE_NEWNS"},
		{unix.CLONE_NEWUSER | unix.CLONE_NEWNET, "CLONE_NEWUSER|CLONE_NEWNET"},
		{unix.CLONE_NEWTIME, "CLONE_NEWTIME"},
		{uintptr(unix.SIGCHLD), "SIGCHLD"},
		{unix.CLONE_PARENT | uintptr(unix.SIGCHLD), "CLONE_PARENT|SIGCHLD"},
		{unix.CLONE_NEWPID | 0x00400000, "CLONE_NEWPID|0x400000"},
	} {
		if got := FormatFlags(tc.in); got != tc.want {
			t.Errorf("FormatFlags(%#x) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
