package procfs

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSysctls(t *testing.T) {
	for _, tt := range []struct {
		in   map[string]string
		want []Sysctl
		err  string
	}{
		{in: nil, want: []Sysctl{}},
		{in: map[string]string{"net.ipv4.ip_forward": "1", "kernel.shmmax": "8192", "fs.mqueue.msg_max": "10"},
			want: []Sysctl{
				{"fs.mqueue.msg_max", "sys/fs/mqueue/msg_max", "10"},
				{"kernel.shmmax", "sys/kernel/shmmax", "8192"},
				{"net.ipv4.ip_forward", "sys/net/ipv4/ip_forward", "1"},
			}},
		{in: map[string]string{"net.ipv4.conf.eth0.forwarding": ""}, want: []Sysctl{{"net.ipv4.conf.eth0.forwarding", "sys/net/ipv4/conf/eth0/forwarding", ""}}},
		{in: map[string]string{"net..ipv4": "1"}, err: `contains ".."`},
		{in: map[string]string{"net.ipv4.../../../kernel.core_pattern": "|/x"}, err: `contains ".."`},
		{in: map[string]string{"net/ipv4/ip_forward": "1"}, err: "want a dotted name"},
		{in: map[string]string{"": "1"}, err: "want a dotted name"},
		{in: map[string]string{"net.ipv4.": "1"}, err: "empty component"},
		{in: map[string]string{"kernel.shmmax": "1\x002"}, err: "NUL byte"},
	} {
		got, err := Sysctls(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Sysctls(%q) = %v, %v; want an error with %q", tt.in, got, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Sysctls(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// WriteAt takes the procfs directory already open (the rootfs steps
// resolve the container's /proc in-root) and checks it as Open does.
func TestWriteAt(t *testing.T) {
	notProc, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer notProc.Close()
	if err := WriteAt(notProc, "sys/kernel/domainname", "x"); err == nil || !strings.Contains(err.Error(), "not on a procfs") {
		t.Errorf("WriteAt(a tmp dir) = %v, want not on a procfs", err)
	}
	proc, err := os.OpenFile("/proc", unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Close()
	if err := WriteAt(proc, "self/oom_score_adj", "0"); err == nil || !strings.Contains(err.Error(), "open /proc/self/oom_score_adj") {
		t.Errorf("WriteAt(/proc, self/...) = %v, want the symlink refused", err)
	}
	if err := WriteAt(proc, "sys/kernel/ostype", "x"); !errors.Is(err, unix.EACCES) {
		t.Errorf("WriteAt(/proc, sys/kernel/ostype) = %v, want the kernel's EACCES (a read-only sysctl)", err)
	}
}
