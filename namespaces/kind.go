package namespaces

import (
	"fmt"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Kind is one of the eight kinds of Linux namespace (namespaces(7)). Each
// wraps one global resource so that the processes inside see their own
// copy of it. The constants are in the order a process must join them:
// the user namespace first (it grants the capabilities every other setns
// checks), the mount namespace last (it changes the root and the working
// directory), as runc's nsexec does.
type Kind uint8

const (
	// User isolates user and group IDs, and capabilities: a process can be
	// uid 0 with every capability inside and an unprivileged uid outside.
	// /proc/PID/uid_map and gid_map translate IDs (user_namespaces(7)).
	// Every other namespace is owned by a user namespace, which decides
	// who may act on it.
	User Kind = iota
	// IPC isolates System V IPC objects and POSIX message queues
	// (ipc_namespaces(7)).
	IPC
	// UTS isolates the hostname and the NIS domain name, set with
	// sethostname(2) and setdomainname(2) (uts_namespaces(7)).
	UTS
	// Net isolates network devices, addresses, routes, firewall rules,
	// the port numbers and /proc/net (network_namespaces(7)). A new one
	// holds only a loopback device, down.
	Net
	// PID isolates process IDs (pid_namespaces(7)). The first process in a
	// new one is its PID 1: it reaps orphans, the signals it has no
	// handler for are ignored, and when it dies the kernel kills every
	// other process of the namespace. A process never changes its own PID
	// namespace: unshare(2) and setns(2) only choose the one its next
	// children are born in (/proc/PID/ns/pid_for_children).
	PID
	// Cgroup virtualizes the view of /proc/PID/cgroup and of a mounted
	// cgroupfs: the cgroup the namespace was made in becomes its root
	// (cgroup_namespaces(7)).
	Cgroup
	// Time gives CLOCK_MONOTONIC and CLOCK_BOOTTIME their own offsets
	// (time_namespaces(7)). Like PID, unshare(2) only sets the namespace of
	// the next children (/proc/PID/ns/time_for_children); recent kernels
	// also move the caller into it at execve(2), 6.1 does not. setns(2)
	// moves the caller at once.
	Time
	// Mount isolates the list of mounts: a new one starts as a copy of
	// the caller's (mount_namespaces(7)). Mount events still propagate
	// between shared mounts across namespaces unless made private.
	Mount
)

// kinds is every Kind, in join order.
var kinds = [...]struct {
	proc string
	spec specs.LinuxNamespaceType
	flag uintptr
}{
	User:   {"user", specs.UserNamespace, unix.CLONE_NEWUSER},
	IPC:    {"ipc", specs.IPCNamespace, unix.CLONE_NEWIPC},
	UTS:    {"uts", specs.UTSNamespace, unix.CLONE_NEWUTS},
	Net:    {"net", specs.NetworkNamespace, unix.CLONE_NEWNET},
	PID:    {"pid", specs.PIDNamespace, unix.CLONE_NEWPID},
	Cgroup: {"cgroup", specs.CgroupNamespace, unix.CLONE_NEWCGROUP},
	Time:   {"time", specs.TimeNamespace, unix.CLONE_NEWTIME},
	Mount:  {"mnt", specs.MountNamespace, unix.CLONE_NEWNS},
}

// Kinds returns every kind in join order.
func Kinds() []Kind {
	ks := make([]Kind, len(kinds))
	for i := range kinds {
		ks[i] = Kind(i)
	}
	return ks
}

// ParseKind accepts the OCI runtime-spec name ("network", "mount") or the
// name of the file in /proc/PID/ns ("net", "mnt").
func ParseKind(s string) (Kind, error) {
	for i, k := range kinds {
		if s == k.proc || s == string(k.spec) {
			return Kind(i), nil
		}
	}
	return 0, errorf("unknown namespace kind %q (want one of %s)", s, strings.Join(names(), ", "))
}

// ParseKinds parses a comma-separated list such as "mnt,uts,pid".
func ParseKinds(list string) ([]Kind, error) {
	var ks []Kind
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		k, err := ParseKind(s)
		if err != nil {
			return nil, err
		}
		ks = append(ks, k)
	}
	return ks, nil
}

func names() []string {
	var n []string
	for _, k := range kinds {
		n = append(n, k.proc)
	}
	return n
}

// String is the name of the kind's file in /proc/PID/ns: "mnt", "net"...
func (k Kind) String() string {
	if int(k) >= len(kinds) {
		return fmt.Sprintf("Kind(%d)", k)
	}
	return kinds[k].proc
}

// SpecType is the kind's name in the OCI runtime spec (config.json
// linux.namespaces[].type).
func (k Kind) SpecType() specs.LinuxNamespaceType { return kinds[k].spec }

// Flag is the CLONE_NEW* flag that clone(2) and unshare(2) take to create
// a namespace of this kind, and setns(2) to check the kind of a file.
func (k Kind) Flag() uintptr { return kinds[k].flag }

// ProcPath is the file that names the namespace process pid is in.
// Opening it gives a file descriptor for setns(2); its inode number
// identifies the namespace; a bind mount of it keeps the namespace alive.
func (k Kind) ProcPath(pid int) string {
	return fmt.Sprintf("/proc/%d/ns/%s", pid, kinds[k].proc)
}

// flagNames are the CLONE_* flags FormatFlags names, by value: a static
// table, nothing built at start.
var flagNames = [...]struct {
	bit  uintptr
	name string
}{
	{unix.CLONE_NEWTIME, "CLONE_NEWTIME"},
	{unix.CLONE_PARENT, "CLONE_PARENT"},
	{unix.CLONE_NEWNS, "CLONE_NEWNS"},
	{unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
	{unix.CLONE_NEWUTS, "CLONE_NEWUTS"},
	{unix.CLONE_NEWIPC, "CLONE_NEWIPC"},
	{unix.CLONE_NEWUSER, "CLONE_NEWUSER"},
	{unix.CLONE_NEWPID, "CLONE_NEWPID"},
	{unix.CLONE_NEWNET, "CLONE_NEWNET"},
}

// FormatFlags writes clone/unshare flags the way the man pages do:
// "CLONE_NEWUSER|CLONE_NEWNS". A SIGCHLD in clone's low byte (the signal
// the parent gets when the child dies) is printed by name, other unknown
// bits in hex.
func FormatFlags(flags uintptr) string {
	var parts []string
	for _, f := range flagNames {
		if flags&f.bit != 0 {
			parts = append(parts, f.name)
			flags &^= f.bit
		}
	}
	if flags&0x7f == uintptr(unix.SIGCHLD) {
		parts = append(parts, "SIGCHLD")
		flags &^= 0x7f
	}
	if flags != 0 {
		parts = append(parts, fmt.Sprintf("%#x", flags))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}
