package integration

import (
	"encoding/json"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// hostCgroupMode works the mode out independently of ctr-lite: statfs(2)
// f_type of /sys/fs/cgroup and of systemd's hybrid /sys/fs/cgroup/unified.
func hostCgroupMode(t *testing.T) string {
	t.Helper()
	const cgroup2Magic = 0x63677270 // CGROUP2_SUPER_MAGIC
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	if st.Type == cgroup2Magic {
		return "v2"
	}
	if err := syscall.Statfs("/sys/fs/cgroup/unified", &st); err == nil && st.Type == cgroup2Magic {
		return "hybrid"
	}
	return "v1"
}

// TestUserChecksHost: on the hosts ctr-lite runs on, check passes, every
// line is OK/WARN/MISSING + what + why, the cgroup mode is the real one,
// and CAP_SYS_RESOURCE is reported exactly when we lack it.
func TestUserChecksHost(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "check")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 20 {
		t.Fatalf("short report:\n%s", r.stdout)
	}
	item := regexp.MustCompile(`^(OK|WARN|MISSING) +\S.* +\S`)
	for _, l := range lines[1 : len(lines)-1] {
		if !item.MatchString(l) {
			t.Errorf("line is not LEVEL WHAT WHY: %q", l)
		}
	}
	mode := hostCgroupMode(t)
	if !regexp.MustCompile(`(?m)^kernel \S+, cgroup mode ` + mode + `$`).MatchString(r.stdout) {
		t.Errorf("header does not say cgroup mode %s:\n%s", mode, r.stdout)
	}
	if !regexp.MustCompile(`(?m)^(OK|WARN) +cgroup mode +` + mode + `:`).MatchString(r.stdout) {
		t.Errorf("no cgroup mode %s line:\n%s", mode, r.stdout)
	}
	for _, kind := range []string{"mnt", "pid", "uts", "ipc", "net", "user", "cgroup", "time"} {
		if !regexp.MustCompile(`(?m)^(OK|WARN|MISSING) +namespace ` + kind + ` `).MatchString(r.stdout) {
			t.Errorf("namespace %s not reported", kind)
		}
	}
	for _, c := range []string{"memory", "pids"} {
		if !regexp.MustCompile(`(?m)^OK +controller ` + c + ` +v[12] /sys/fs/cgroup`).MatchString(r.stdout) {
			t.Errorf("controller %s not OK:\n%s", c, r.stdout)
		}
	}
	capLine := regexp.MustCompile(`(?m)^WARN +CAP_SYS_RESOURCE +not held.*oom_score_adj`)
	if has := hasCap(t, capSysResource); capLine.MatchString(r.stdout) == has {
		t.Errorf("CAP_SYS_RESOURCE held=%v, but the report says:\n%s", has, r.stdout)
	}
	if !regexp.MustCompile(`(?m)^\d+ OK, \d+ WARN, 0 MISSING$`).MatchString(r.stdout) {
		t.Errorf("no summary with 0 MISSING:\n%s", r.stdout)
	}
}

// TestOrchestratorReadsCheckJSON: --format json is one document a tool
// can read, with the same findings.
func TestOrchestratorReadsCheckJSON(t *testing.T) {
	requireRoot(t)
	r := mustCtrLite(t, "check", "--format", "json")
	var rep struct {
		Kernel  string `json:"kernel"`
		Cgroups struct {
			Mode        string            `json:"mode"`
			Controllers map[string]string `json:"controllers"`
		} `json:"cgroups"`
		Checks []struct {
			Level, Area, What, Why string
			Required               bool
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Cgroups.Mode != hostCgroupMode(t) {
		t.Errorf("mode %q, want %q", rep.Cgroups.Mode, hostCgroupMode(t))
	}
	if rep.Kernel == "" || rep.Cgroups.Controllers["memory"] == "" || rep.Cgroups.Controllers["pids"] == "" {
		t.Errorf("kernel or controllers missing: %+v", rep)
	}
	found := false
	for _, c := range rep.Checks {
		if c.Level != "OK" && c.Level != "WARN" && c.Level != "MISSING" || c.What == "" || c.Why == "" {
			t.Errorf("bad check %+v", c)
		}
		if c.Level == "MISSING" {
			t.Errorf("missing on this host: %+v", c)
		}
		if c.What == "CAP_SYS_RESOURCE" {
			found = c.Level == "WARN" && !c.Required
		}
	}
	if found == hasCap(t, capSysResource) {
		t.Errorf("CAP_SYS_RESOURCE WARN reported=%v, held=%v", found, hasCap(t, capSysResource))
	}
}

func TestUserGivesBadCheckFormat(t *testing.T) {
	r := wantFail(t, []string{"check", "--format", "yaml"}, `--format "yaml"`)
	if r.code != 2 || r.stdout != "" {
		t.Errorf("exit %d, stdout %q; want 2 and nothing printed", r.code, r.stdout)
	}
}
