package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func i64p(v int64) *int64 { return &v }

// kmsg is /dev/kmsg (char 1:11): not a default device, so only a rule
// of the config lets the container open it.
var kmsg = specs.LinuxDevice{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}

// denyAll is the first rule of every config a runtime's users write.
var denyAll = specs.LinuxDeviceCgroup{Allow: false, Access: "rwm"}

// TestUserGetsOnlyDevicesTheConfigAllows: linux.devices creates nodes,
// linux.resources.devices (plus runc's default list) decides which the
// container may open, with deny-all as the start even when the config
// gives no rule (runc 1.1). A FIFO (type p) is created with mknod.
func TestUserGetsOnlyDevicesTheConfigAllows(t *testing.T) {
	const script = `echo ctr-lite-test > /dev/kmsg && echo kmsg=written
echo x > /dev/null && echo null=ok
(echo through-fifo > /dev/fifo &)
read l < /dev/fifo; echo "fifo=$l"
ls -l /dev/fifo | cut -c1`
	fifoMode := os.FileMode(0o620)
	fifo := specs.LinuxDevice{Path: "/dev/fifo", Type: "p", FileMode: &fifoMode}
	for _, tc := range []struct {
		name  string
		rules []specs.LinuxDeviceCgroup
		kmsg  string // what writing /dev/kmsg gives
	}{
		{"deny all", []specs.LinuxDeviceCgroup{denyAll}, "Operation not permitted"},
		{"no rules", nil, "Operation not permitted"},
		{"write allowed", []specs.LinuxDeviceCgroup{denyAll, {Allow: true, Type: "c", Major: i64p(1), Minor: i64p(11), Access: "w"}}, "kmsg=written"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBundle(t, "dev"+strings.ReplaceAll(tc.name, " ", ""), "sh", "-c", script)
			b.spec.Linux.Devices = []specs.LinuxDevice{kmsg, fifo}
			if tc.rules == nil {
				b.spec.Linux.Resources = nil
			} else {
				b.spec.Linux.Resources = &specs.LinuxResources{Devices: tc.rules}
			}
			b.write()
			r := b.ctr("run", "-b", b.dir, b.id)
			out := r.stdout + r.stderr
			for _, want := range []string{tc.kmsg, "null=ok", "fifo=through-fifo", "\np\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("want %q in the container's output:\n%s", want, r)
				}
			}
			if tc.kmsg != "kmsg=written" && strings.Contains(out, "kmsg=written") {
				t.Errorf("the container wrote /dev/kmsg, which no rule allows:\n%s", r)
			}
		})
	}
}

// TestUserSeesDeviceRulesAppliedInOrder: config-linux.md says device
// rules are applied in the order given: on both v1 and v2 a later rule
// overrides an earlier one for the same device. On v1 the group is
// written as runc 1.1 writes it (its devices emulator: "a *:* rwm" to
// devices.deny once, then each allowed exception once, by major, minor
// and type), so devices.list reads exactly as under runc.
func TestUserSeesDeviceRulesAppliedInOrder(t *testing.T) {
	rule := func(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		return specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Major: i64p(major), Minor: i64p(minor), Access: access}
	}
	t.Run("devices.list", func(t *testing.T) {
		if cgroupV2() {
			t.Skip("cgroup v2 has no devices.list; the override subtest checks the eBPF program")
		}
		b := newBundle(t, "devorder", "true")
		b.spec.Linux.Resources = &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			denyAll, rule(true, "c", 10, 229, "rwm"), rule(true, "b", 8, 20, "rw"), rule(true, "b", 10, 200, "r"),
		}}
		b.write()
		b.mustDetached("create", "-b", b.dir, b.id)
		list := readTrim(t, filepath.Join("/sys/fs/cgroup/devices", b.spec.Linux.CgroupsPath, "devices.list"))
		// runc 1.1.5's, read on a hybrid host with this config.
		want := "b *:* m\nc *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\n" +
			"b 8:20 rw\nb 10:200 r\nc 10:200 rwm\nc 10:229 rwm\nc 136:* rwm"
		if list != want {
			t.Errorf("devices.list after create:\n%s\nwant runc's:\n%s", list, want)
		}
		b.must("delete", "--force", b.id)
	})
	t.Run("override", func(t *testing.T) {
		const script = `echo ctr-lite-test > /dev/kmsg && echo kmsg=written; true`
		for _, tc := range []struct {
			name  string
			rules []specs.LinuxDeviceCgroup
			want  string
		}{
			{"deny after allow", []specs.LinuxDeviceCgroup{denyAll, rule(true, "c", 1, 11, "rw"), rule(false, "c", 1, 11, "w")}, "Operation not permitted"},
			{"allow after deny", []specs.LinuxDeviceCgroup{denyAll, rule(false, "c", 1, 11, "w"), rule(true, "c", 1, 11, "rw")}, "kmsg=written"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				b := newBundle(t, "devover", "sh", "-c", script)
				b.spec.Linux.Devices = []specs.LinuxDevice{kmsg}
				b.spec.Linux.Resources = &specs.LinuxResources{Devices: tc.rules}
				b.write()
				r := b.ctr("run", "-b", b.dir, b.id)
				if !strings.Contains(r.stdout+r.stderr, tc.want) {
					t.Errorf("want %q:\n%s", tc.want, r)
				}
			})
		}
	})
}
