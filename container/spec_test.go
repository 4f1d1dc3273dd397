package container

import (
	"encoding/json"
	"slices"
	"testing"
)

// `ctr-lite spec` writes runc's defaults: these fields are what runc
// 1.1.5's `runc spec` writes (libcontainer/specconv Example), in its
// order, copied from its config.json.
func TestDefaultSpecMatchesRuncSpec(t *testing.T) {
	s := DefaultSpec()
	masked := []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"}
	readonly := []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	if !slices.Equal(s.Linux.MaskedPaths, masked) {
		t.Errorf("maskedPaths = %q, want runc's %q", s.Linux.MaskedPaths, masked)
	}
	if !slices.Equal(s.Linux.ReadonlyPaths, readonly) {
		t.Errorf("readonlyPaths = %q, want runc's %q", s.Linux.ReadonlyPaths, readonly)
	}
	const runcDev = `[{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},` +
		`{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},` +
		`{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},` +
		`{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]}]`
	var dev []any
	for _, m := range s.Mounts {
		if len(m.Destination) >= 4 && m.Destination[:4] == "/dev" {
			dev = append(dev, m)
		}
	}
	if b, _ := json.Marshal(dev); string(b) != runcDev {
		t.Errorf("/dev mounts = %s\nwant runc's    %s", b, runcDev)
	}
}
