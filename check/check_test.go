package check

import (
	"maps"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"golang.org/x/sys/unix"
)

// fakeSys answers the syscall probes as a given kernel would.
type fakeSys struct {
	pidfd   error
	seccomp error
}

func (f fakeSys) PidfdOpenSelf() error     { return f.pidfd }
func (f fakeSys) GetSeccomp() (int, error) { return 0, f.seccomp }

func fixture(name string, sys Syscalls) *Report {
	return Host{FS: os.DirFS("testdata/" + name), Sys: sys}.Run()
}

func TestDetectsFixtureHosts(t *testing.T) {
	type want struct {
		what  string
		level Level
		in    string // substring of Why
	}
	tests := []struct {
		fixture     string
		sys         Syscalls
		mode        string
		kernel      string
		controllers map[string]string
		missing     []string // required items missing, in order
		items       []want
	}{{
		fixture: "hybrid", sys: fakeSys{}, mode: "hybrid", kernel: "6.18.44",
		controllers: map[string]string{
			"memory": "v1 /sys/fs/cgroup/memory", "pids": "v1 /sys/fs/cgroup/pids",
			"hugetlb": "v2 /sys/fs/cgroup/unified", "cpuacct": "v1 /sys/fs/cgroup/cpuacct",
		},
		items: []want{
			{"cgroup mode", Warn, "hybrid"},
			{"namespace time", OK, "time:["},
			{"controller memory", OK, "v1 /sys/fs/cgroup/memory"},
			{"controller pids", OK, "v1 /sys/fs/cgroup/pids"},
			{"controller hugetlb", OK, "v2 /sys/fs/cgroup/unified"},
			{"cgroup2 cgroup.kill", OK, "kernel 5.14+"},
			{"cgroup2 memory.peak", Warn, "memory controller is not on cgroup2"},
			{"capabilities", OK, "40 of 41"},
			{"CAP_SYS_RESOURCE", Warn, "oom_score_adj"},
			{"user namespaces allowed", OK, "1000"},
			{"seccomp", OK, "unfiltered"},
			{"seccomp filter mode", OK, "user_notif"},
			{"pidfd_open", OK, ""},
			{"no_new_privs", OK, "NoNewPrivs: 0"},
			{"overlayfs", OK, ""},
		},
	}, {
		fixture: "v2", sys: fakeSys{}, mode: "v2", kernel: "6.18.44",
		controllers: map[string]string{"memory": "v2 /sys/fs/cgroup", "io": "v2 /sys/fs/cgroup", "pids": "v2 /sys/fs/cgroup"},
		items: []want{
			{"cgroup mode", OK, "v2"},
			{"controller io", OK, "v2 /sys/fs/cgroup"},
			{"cgroup2 cgroup.kill", OK, "/sys/fs/cgroup/ctr-lite.slice"},
			{"cgroup2 memory.peak", OK, "/sys/fs/cgroup/ctr-lite.slice"},
			{"capabilities", OK, "41 of 41"},
			{"seccomp", Warn, "already filtered"},
			{"no_new_privs", Warn, "already set"},
		},
	}, {
		fixture: "v1", sys: fakeSys{pidfd: unix.ENOSYS, seccomp: unix.EINVAL}, mode: "v1", kernel: "4.19.0-27-amd64",
		controllers: map[string]string{"memory": "v1 /sys/fs/cgroup/memory", "cpu": "v1 /sys/fs/cgroup/cpu,cpuacct", "blkio": "v1 /sys/fs/cgroup/my blkio"},
		missing:     []string{"controller pids", "CAP_SYS_ADMIN"},
		items: []want{
			{"kernel", Warn, "older than 5.4"},
			{"cgroup mode", Warn, "v1"},
			{"namespace time", Warn, "kernel built without it"},
			{"namespace cgroup", Warn, ""},
			{"controller pids", Missing, "fork bomb"},
			{"controller cpuset", Warn, "in no hierarchy"},
			{"cgroup2 cgroup.kill", Warn, "no cgroup2 mounted"},
			{"CAP_SYS_ADMIN", Missing, "mount"},
			{"CAP_SYS_RESOURCE", Warn, ""},
			{"user namespaces allowed", Warn, "max_user_namespaces is 0"},
			{"seccomp filter mode", Warn, "invalid argument"},
			{"pidfd_open", Warn, "ENOSYS"},
			{"overlayfs", Warn, "not in /proc/filesystems"},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			r := fixture(tt.fixture, tt.sys)
			if r.Cgroups.Mode != tt.mode {
				t.Errorf("mode %q, want %q", r.Cgroups.Mode, tt.mode)
			}
			if r.Kernel != tt.kernel {
				t.Errorf("kernel %q, want %q", r.Kernel, tt.kernel)
			}
			for c, where := range tt.controllers {
				if got := r.Cgroups.Controllers[c]; got != where {
					t.Errorf("controller %s at %q, want %q", c, got, where)
				}
			}
			var missing []string
			for _, it := range r.Missing() {
				missing = append(missing, it.What)
			}
			if strings.Join(missing, ",") != strings.Join(tt.missing, ",") {
				t.Errorf("missing %q, want %q", missing, tt.missing)
			}
			for _, w := range tt.items {
				it, ok := r.Find(w.what)
				if !ok {
					t.Errorf("no item %q", w.what)
					continue
				}
				if it.Level != w.level || !strings.Contains(it.Why, w.in) {
					t.Errorf("%s: %s %q, want %s containing %q", w.what, it.Level, it.Why, w.level, w.in)
				}
			}
		})
	}
}

// A report must never call something MISSING that is not required, and
// every namespace kind must get a line.
func TestEveryNamespaceKindReported(t *testing.T) {
	r := fixture("v1", nil)
	for _, k := range namespaceKinds {
		it, ok := r.Find("namespace " + k.file)
		if !ok {
			t.Errorf("namespace %s not reported", k.file)
			continue
		}
		if it.Level == Missing && !it.Required {
			t.Errorf("%s: MISSING but not required", it.What)
		}
	}
	if it, _ := r.Find("pidfd_open"); it.Level != Warn || !strings.Contains(it.Why, "not probed") {
		t.Errorf("pidfd without syscalls: %+v", it)
	}
}

// Mount points with a space, tab or backslash reach mountinfo escaped
// (\040, \011, \134; proc(5)); the controllers are found where they
// really are. A malformed mountinfo is an error, not an empty host.
func TestDetectCgroupsEscapedMountpoints(t *testing.T) {
	for _, tt := range []struct {
		name, mountinfo string
		mode, v2        string
		controllers     map[string]string
		err             bool
	}{{
		name:        "space in a v1 hierarchy",
		mountinfo:   `26 25 0:21 / /sys/fs/cgroup/my\040mem rw - cgroup cgroup rw,memory` + "\n",
		mode:        "v1",
		controllers: map[string]string{"memory": "v1 /sys/fs/cgroup/my mem"},
	}, {
		name:        "tab and backslash",
		mountinfo:   `26 25 0:21 / /cg\011a\134b rw - cgroup cgroup rw,pids` + "\n",
		mode:        "v1",
		controllers: map[string]string{"pids": `v1 /cg` + "\t" + `a\b`},
	}, {
		name:        "cgroup2 with a space",
		mountinfo:   `25 1 0:23 / /sys/fs/my\040cgroup rw,nosuid - cgroup2 cgroup2 rw` + "\n",
		mode:        "v2",
		v2:          "/sys/fs/my cgroup",
		controllers: map[string]string{"pids": "v2 /sys/fs/my cgroup"},
	}, {
		name:        "other filesystems ignored",
		mountinfo:   "25 1 0:23 / / rw shared:1 - ext4 /dev/sda1 rw\n",
		mode:        "none",
		controllers: map[string]string{},
	}, {
		name:      "truncated line",
		mountinfo: "25 1 0:23 / /sys/fs/cgroup\n",
		err:       true,
	}} {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{
				"proc/self/mountinfo":                 {Data: []byte(tt.mountinfo)},
				"sys/fs/my cgroup/cgroup.controllers": {Data: []byte("pids\n")},
			}
			cg, err := DetectCgroups(fsys)
			if tt.err {
				if err == nil {
					t.Fatalf("DetectCgroups = %+v, want an error", cg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cg.Mode != tt.mode || cg.V2Mount != tt.v2 || !maps.Equal(cg.Controllers, tt.controllers) {
				t.Errorf("DetectCgroups = %+v, want mode %s, v2 %q, controllers %v", cg, tt.mode, tt.v2, tt.controllers)
			}
		})
	}
}

func TestKernelVersion(t *testing.T) {
	for _, tt := range []struct {
		rel          string
		major, minor int
		atLeast514   bool
	}{
		{"6.18.44-fc-v657", 6, 18, true}, {"5.14.0-rc1", 5, 14, true}, {"5.4.0", 5, 4, false}, {"4.19", 4, 19, false}, {"junk", 0, 0, false},
	} {
		ma, mi := kernelVersion(tt.rel)
		if ma != tt.major || mi != tt.minor || atLeast(tt.rel, 5, 14) != tt.atLeast514 {
			t.Errorf("%s: %d.%d atLeast(5.14)=%v", tt.rel, ma, mi, atLeast(tt.rel, 5, 14))
		}
	}
}
