// Package check reports what the running kernel and this process offer a
// container runtime: namespaces, user namespace limits, cgroup mode and
// controllers, capabilities, seccomp, pidfd, no_new_privs, overlayfs.
//
// Everything it can learn from files it reads through an fs.FS rooted at
// "/" (so tests run on fixture trees: testdata/hybrid, v1, v2); the few
// things only a syscall tells (pidfd_open, PR_GET_SECCOMP) go through the
// Syscalls interface.
package check

import (
	"io/fs"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Level is how a finding affects containers.
type Level string

const (
	// OK: present and usable.
	OK Level = "OK"
	// Warn: absent or degraded; containers run, a feature does not.
	Warn Level = "WARN"
	// Missing: a container cannot be built without it (Item.Required).
	Missing Level = "MISSING"
)

// Item is one line of the report.
type Item struct {
	Level Level  `json:"level"`
	Area  string `json:"area"` // kernel, namespace, userns, cgroup, capability, seccomp, pidfd, no_new_privs, overlayfs
	What  string `json:"what"`
	Why   string `json:"why"`
	// Required: ctr-lite's containers need this; Missing makes check fail.
	Required bool `json:"required"`
}

// Cgroups describes the cgroup setup (cgroups(7)).
type Cgroups struct {
	// Mode is "v2" (one unified hierarchy at /sys/fs/cgroup), "v1" (one
	// hierarchy per controller), "hybrid" (v1 controllers plus an empty-ish
	// cgroup2 beside them, systemd's old default) or "none".
	Mode string `json:"mode"`
	// V2Mount is where cgroup2 is mounted, if anywhere.
	V2Mount string `json:"v2Mount,omitempty"`
	// Controllers maps each controller to where it is usable:
	// "v1 /sys/fs/cgroup/memory" or "v2 /sys/fs/cgroup".
	Controllers map[string]string `json:"controllers"`
}

// Report is the whole result.
type Report struct {
	Kernel  string  `json:"kernel"`
	Cgroups Cgroups `json:"cgroups"`
	Items   []Item  `json:"checks"`
}

// Missing lists the required items that are missing.
func (r *Report) Missing() []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Level == Missing {
			out = append(out, it)
		}
	}
	return out
}

// Find returns the first item whose What is what (for tests and callers).
func (r *Report) Find(what string) (Item, bool) {
	for _, it := range r.Items {
		if it.What == what {
			return it, true
		}
	}
	return Item{}, false
}

// Syscalls are the probes that are not files.
type Syscalls interface {
	// PidfdOpenSelf calls pidfd_open(getpid(), 0) (Linux 5.3) and closes it.
	PidfdOpenSelf() error
	// GetSeccomp calls prctl(PR_GET_SECCOMP): the mode, or EINVAL when
	// the kernel has no seccomp.
	GetSeccomp() (int, error)
}

// Host is what is probed.
type Host struct {
	// FS is the root of the file tree (/proc, /sys).
	FS fs.FS
	// Sys answers the syscall probes; nil skips them (reported as WARN).
	Sys Syscalls
}

// Live is this machine: the real root and real syscalls.
func Live() Host { return Host{FS: os.DirFS("/"), Sys: liveSyscalls{}} }

// Run probes everything and returns the report.
func (h Host) Run() *Report {
	r := &Report{}
	r.kernel(h)
	r.namespaces(h)
	r.userns(h)
	r.cgroups(h)
	r.capabilities(h)
	r.seccomp(h)
	r.pidfd(h)
	r.noNewPrivs(h)
	r.overlay(h)
	return r
}

func (r *Report) add(l Level, area, what, why string, required bool) {
	if l == Missing && !required {
		l = Warn
	}
	r.Items = append(r.Items, Item{Level: l, Area: area, What: what, Why: why, Required: required})
}

func readString(fsys fs.FS, name string) (string, error) {
	b, err := fs.ReadFile(fsys, name)
	return strings.TrimSpace(string(b)), err
}

// kernelVersion parses "6.18.44-foo" into 6, 18.
func kernelVersion(release string) (major, minor int) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0
	}
	major, _ = strconv.Atoi(parts[0])
	minor, _ = strconv.Atoi(strings.TrimRightFunc(parts[1], func(c rune) bool { return c < '0' || c > '9' }))
	return major, minor
}

func atLeast(release string, major, minor int) bool {
	ma, mi := kernelVersion(release)
	return ma > major || (ma == major && mi >= minor)
}

func (r *Report) kernel(h Host) {
	rel, err := readString(h.FS, "proc/sys/kernel/osrelease")
	if err != nil {
		r.add(Warn, "kernel", "kernel version", "cannot read /proc/sys/kernel/osrelease: "+err.Error(), false)
		return
	}
	r.Kernel = rel
	if !atLeast(rel, 5, 4) {
		r.add(Warn, "kernel", "kernel", rel+": older than 5.4: pidfd, openat2, clone3, cgroup.kill and time namespaces are missing", false)
		return
	}
	r.add(OK, "kernel", "kernel", rel+": 5.4 or later", false)
}

// liveSyscalls are the real probes.
type liveSyscalls struct{}

func (liveSyscalls) PidfdOpenSelf() error {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func (liveSyscalls) GetSeccomp() (int, error) {
	return unix.PrctlRetInt(unix.PR_GET_SECCOMP, 0, 0, 0, 0)
}
