package check

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// namespaceKinds are the 8 kinds (namespaces(7)), with why each matters.
var namespaceKinds = []struct {
	file, why string
	required  bool
}{
	{"mnt", "private mount table: the rootfs, pivot_root and /proc are the container's own", true},
	{"pid", "own PID numbering: the program is PID 1 and sees only its processes", true},
	{"uts", "own hostname, without renaming the host", true},
	{"ipc", "own System V IPC and POSIX message queues (and their sysctls)", true},
	{"net", "own network stack; without it the container shares the host's", false},
	{"user", "uid mapping: rootless containers, root inside that is not root outside", false},
	{"cgroup", "the container sees its own cgroup as /", false},
	{"time", "own CLOCK_MONOTONIC/BOOTTIME offsets (Linux 5.6), for checkpoint/restore", false},
}

func (r *Report) namespaces(h Host) {
	for _, k := range namespaceKinds {
		name := "proc/self/ns/" + k.file
		what := "namespace " + k.file
		if _, err := fs.Lstat(h.FS, name); err != nil {
			r.add(Missing, "namespace", what, fmt.Sprintf("no /%s (kernel built without it): %s", name, k.why), k.required)
			continue
		}
		why := k.why
		if target, err := fs.ReadLink(h.FS, name); err == nil {
			why = target + ": " + why
		}
		r.add(OK, "namespace", what, why, k.required)
	}
}

func (r *Report) userns(h Host) {
	const what = "user namespaces allowed"
	v, err := readString(h.FS, "proc/sys/user/max_user_namespaces")
	switch n, perr := strconv.Atoi(v); {
	case err != nil:
		r.add(Warn, "userns", what, "no /proc/sys/user/max_user_namespaces: rootless containers cannot work", false)
		return
	case perr != nil || n <= 0:
		r.add(Warn, "userns", what, "user.max_user_namespaces is "+v+": no one may create user namespaces, so no rootless containers", false)
		return
	}
	// Debian/Ubuntu knobs that forbid them to unprivileged users only.
	if v, err := readString(h.FS, "proc/sys/kernel/unprivileged_userns_clone"); err == nil && v == "0" {
		r.add(Warn, "userns", what, "kernel.unprivileged_userns_clone=0: only root may create user namespaces (no rootless)", false)
		return
	}
	if v, err := readString(h.FS, "proc/sys/kernel/apparmor_restrict_unprivileged_userns"); err == nil && v == "1" {
		r.add(Warn, "userns", what, "kernel.apparmor_restrict_unprivileged_userns=1: unprivileged user namespaces get no capabilities", false)
		return
	}
	r.add(OK, "userns", what, "user.max_user_namespaces="+v+": rootless containers and uid mapping work", false)
}

// capNames are capabilities(7) in bit order.
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
	"CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
	"CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK",
	"CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE",
	"CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE",
	"CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// capWhy says what breaks without a capability; required ones are
// needed to build any container as root.
var capWhy = map[string]struct {
	why      string
	required bool
}{
	"CAP_SYS_ADMIN":    {"mount, pivot_root, unshare/setns, sethostname: building a container needs it", true},
	"CAP_SETUID":       {"setuid to the container's user", true},
	"CAP_SETGID":       {"setgid/setgroups to the container's groups", true},
	"CAP_SETPCAP":      {"drop capabilities from the bounding set before the user change", true},
	"CAP_SYS_RESOURCE": {"raise an rlimit's hard limit above ours, lower oom_score_adj, exceed some kernel limits: those settings fail with EPERM", false},
	"CAP_SYS_CHROOT":   {"chroot(2), the fallback when pivot_root is not possible", false},
	"CAP_MKNOD":        {"mknod device nodes in the container's /dev (bind mounts still work)", false},
	"CAP_NET_ADMIN":    {"configure network interfaces (veth, addresses, routes) for the container", false},
	"CAP_KILL":         {"signal a container process running as another user", false},
	"CAP_DAC_OVERRIDE": {"read and write container files regardless of their modes", false},
	"CAP_SYS_PTRACE":   {"read other processes' /proc/PID/ns to join their namespaces", false},
	"CAP_BPF":          {"load eBPF programs (the cgroup v2 device controller)", false},
}

func (r *Report) capabilities(h Host) {
	status, err := readString(h.FS, "proc/self/status")
	if err != nil {
		r.add(Missing, "capability", "capabilities", "cannot read /proc/self/status: "+err.Error(), true)
		return
	}
	eff, err := strconv.ParseUint(statusField(status, "CapEff"), 16, 64)
	if err != nil {
		r.add(Missing, "capability", "capabilities", "no CapEff in /proc/self/status", true)
		return
	}
	last := len(capNames) - 1
	if v, err := readString(h.FS, "proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(v); err == nil && n < last {
			last = n
		}
	}
	var missing []string
	for bit := 0; bit <= last; bit++ {
		if eff&(1<<bit) == 0 {
			missing = append(missing, capNames[bit])
		}
	}
	r.add(OK, "capability", "capabilities", fmt.Sprintf("%d of %d held (CapEff %016x in /proc/self/status)",
		last+1-len(missing), last+1, eff), false)
	for _, c := range missing {
		w, ok := capWhy[c]
		why := "not held: what needs it fails with EPERM, and no container can be given it"
		if ok {
			why = "not held, needed to " + w.why
		}
		r.add(Missing, "capability", c, why, w.required)
	}
}

// statusField returns the value of "Name:\tvalue" in /proc/PID/status.
func statusField(status, name string) string {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func (r *Report) seccomp(h Host) {
	status, _ := readString(h.FS, "proc/self/status")
	mode := statusField(status, "Seccomp")
	switch mode {
	case "":
		r.add(Warn, "seccomp", "seccomp", "no Seccomp field in /proc/self/status: kernel without CONFIG_SECCOMP, containers run unfiltered", false)
	case "0":
		r.add(OK, "seccomp", "seccomp", "ctr-lite runs unfiltered (Seccomp: 0 in /proc/self/status)", false)
	case "2":
		r.add(Warn, "seccomp", "seccomp",
			"ctr-lite is already filtered (Seccomp: 2, "+statusField(status, "Seccomp_filters")+" filter(s)): a container's filter stacks on them, calls they deny fail inside too", false)
	default:
		r.add(Warn, "seccomp", "seccomp", "strict mode (Seccomp: "+mode+"): only read, write, exit and sigreturn are allowed", false)
	}
	const what = "seccomp filter mode"
	if h.Sys == nil {
		r.add(Warn, "seccomp", what, "not probed (no syscall access)", false)
		return
	}
	if _, err := h.Sys.GetSeccomp(); err != nil {
		r.add(Warn, "seccomp", what, "prctl(PR_GET_SECCOMP): "+err.Error()+": kernel without seccomp, containers run unfiltered", false)
		return
	}
	actions, err := readString(h.FS, "proc/sys/kernel/seccomp/actions_avail")
	if err != nil {
		r.add(Warn, "seccomp", what, "no /proc/sys/kernel/seccomp/actions_avail: CONFIG_SECCOMP_FILTER off, no syscall filters", false)
		return
	}
	r.add(OK, "seccomp", what, "syscall filters can be loaded; actions: "+actions, false)
}

func (r *Report) pidfd(h Host) {
	const what = "pidfd_open"
	if h.Sys == nil {
		r.add(Warn, "pidfd", what, "not probed (no syscall access)", false)
		return
	}
	if err := h.Sys.PidfdOpenSelf(); err != nil {
		why := "pidfd_open(self): " + err.Error() + ": waiting for and signalling a container's init race with PID reuse"
		if errors.Is(err, unix.ENOSYS) {
			why = "pidfd_open: ENOSYS (Linux < 5.3): waiting for and signalling a container's init race with PID reuse"
		}
		r.add(Warn, "pidfd", what, why, false)
		return
	}
	r.add(OK, "pidfd", what, "a process can be held by fd: signals and waits never hit a recycled PID", false)
}

func (r *Report) noNewPrivs(h Host) {
	status, _ := readString(h.FS, "proc/self/status")
	switch v := statusField(status, "NoNewPrivs"); v {
	case "0":
		r.add(OK, "no_new_privs", "no_new_privs", "not set on ctr-lite (NoNewPrivs: 0), so containers choose: setuid binaries work unless process.noNewPrivileges", false)
	case "1":
		r.add(Warn, "no_new_privs", "no_new_privs", "already set on ctr-lite (NoNewPrivs: 1): every container inherits it: setuid binaries and file capabilities grant nothing", false)
	default:
		r.add(Warn, "no_new_privs", "no_new_privs", "no NoNewPrivs in /proc/self/status (Linux < 4.10): cannot tell", false)
	}
}

func (r *Report) overlay(h Host) {
	fss, err := readString(h.FS, "proc/filesystems")
	if err != nil {
		r.add(Warn, "overlayfs", "overlayfs", "cannot read /proc/filesystems: "+err.Error(), false)
		return
	}
	for _, line := range strings.Split(fss, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == "overlay" {
			r.add(OK, "overlayfs", "overlayfs", "image layers can be stacked with a writable upper dir", false)
			return
		}
	}
	r.add(Warn, "overlayfs", "overlayfs", "not in /proc/filesystems (modprobe overlay?): only a plain rootfs directory works", false)
}
