package rootfs

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		m     specs.Mount
		flags uintptr
		clear uintptr
		prop  []uintptr
		data  string
		err   string
	}{
		{name: "proc", m: specs.Mount{Type: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV},
		{name: "tmpfs data", m: specs.Mount{Type: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			flags: unix.MS_NOSUID | unix.MS_STRICTATIME, data: "mode=755,size=65536k"},
		{name: "devpts newinstance", m: specs.Mount{Type: "devpts", Options: []string{"newinstance", "ptmxmode=0666"}},
			data: "newinstance,ptmxmode=0666"},
		{name: "rw clears ro", m: specs.Mount{Type: "tmpfs", Options: []string{"ro", "rw"}},
			clear: unix.MS_RDONLY},
		{name: "ro after rw", m: specs.Mount{Type: "tmpfs", Options: []string{"rw", "ro"}},
			flags: unix.MS_RDONLY},
		{name: "bind ro", m: specs.Mount{Type: "bind", Options: []string{"bind", "ro", "nosuid", "noexec", "relatime"}},
			flags: unix.MS_BIND | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_RELATIME},
		{name: "rbind", m: specs.Mount{Type: "none", Options: []string{"rbind"}},
			flags: unix.MS_BIND | unix.MS_REC},
		{name: "propagation in order", m: specs.Mount{Type: "bind", Options: []string{"rbind", "rslave", "shared", "runbindable"}},
			flags: unix.MS_BIND | unix.MS_REC,
			prop:  []uintptr{unix.MS_SLAVE | unix.MS_REC, unix.MS_SHARED, unix.MS_UNBINDABLE | unix.MS_REC}},
		{name: "unknown fs word passes", m: specs.Mount{Type: "overlay", Options: []string{"userxattr"}}, data: "userxattr"},
		{name: "typo on tmpfs", m: specs.Mount{Type: "tmpfs", Options: []string{"nosiud"}}, err: `unknown mount option "nosiud" for tmpfs`},
		{name: "data on bind", m: specs.Mount{Type: "bind", Options: []string{"bind", "mode=755"}}, err: `unknown mount option "mode=755" for bind`},
		{name: "word on proc", m: specs.Mount{Type: "proc", Options: []string{"frobnicate"}}, err: "unknown mount option"},
		{name: "empty option", m: specs.Mount{Type: "tmpfs", Options: []string{""}}, err: "empty mount option"},
		{name: "tmpcopyup is not data", m: specs.Mount{Type: "tmpfs", Options: []string{"rw", "nosuid", "tmpcopyup"}},
			flags: unix.MS_NOSUID, clear: unix.MS_RDONLY},
		{name: "tmpcopyup on bind", m: specs.Mount{Type: "bind", Options: []string{"bind", "tmpcopyup"}}, err: "tmpcopyup is for tmpfs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOptions(tc.m)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.flags != tc.flags || o.clear != tc.clear {
				t.Errorf("flags %s clear %s, want %s clear %s", FormatFlags(o.flags), FormatFlags(o.clear), FormatFlags(tc.flags), FormatFlags(tc.clear))
			}
			if !reflect.DeepEqual(o.propagation, tc.prop) {
				t.Errorf("propagation %v, want %v", o.propagation, tc.prop)
			}
			if d := strings.Join(o.data, ","); d != tc.data {
				t.Errorf("data %q, want %q", d, tc.data)
			}
		})
	}
}

func TestParsePropagation(t *testing.T) {
	for in, want := range map[string]uintptr{
		"":            0,
		"private":     unix.MS_PRIVATE,
		"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
		"slave":       unix.MS_SLAVE,
		"rslave":      unix.MS_SLAVE | unix.MS_REC,
		"shared":      unix.MS_SHARED,
		"rshared":     unix.MS_SHARED | unix.MS_REC,
		"unbindable":  unix.MS_UNBINDABLE,
		"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
	} {
		got, err := ParsePropagation(in)
		if err != nil || got != want {
			t.Errorf("ParsePropagation(%q) = %s, %v; want %s", in, FormatFlags(got), err, FormatFlags(want))
		}
	}
	for _, bad := range []string{"Private", "rbind", "bogus"} {
		if _, err := ParsePropagation(bad); err == nil {
			t.Errorf("ParsePropagation(%q) succeeded", bad)
		}
	}
}

func TestParseMountSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want specs.Mount
		err  bool
	}{
		{in: "tmpfs:tmpfs:/tmp", want: specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: "/tmp"}},
		{in: "tmpfs:tmpfs:/run:mode=755,size=64m", want: specs.Mount{Type: "tmpfs", Source: "tmpfs", Destination: "/run", Options: []string{"mode=755", "size=64m"}}},
		{in: "proc::/proc", want: specs.Mount{Type: "proc", Destination: "/proc"}},
		{in: "bind:/srv:/data:ro", want: specs.Mount{Type: "bind", Source: "/srv", Destination: "/data", Options: []string{"bind", "ro"}}},
		{in: "rbind:/srv:/data", want: specs.Mount{Type: "bind", Source: "/srv", Destination: "/data", Options: []string{"rbind"}}},
		{in: "bind:/srv:/data:rbind,ro", want: specs.Mount{Type: "bind", Source: "/srv", Destination: "/data", Options: []string{"rbind", "ro"}}},
		{in: "tmpfs:/tmp", err: true},
		{in: ":x:/tmp", err: true},
	} {
		got, err := ParseMountSpec(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("ParseMountSpec(%q) succeeded: %+v", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseMountSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestFormatFlags(t *testing.T) {
	for flags, want := range map[uintptr]string{
		0:                                     "0",
		unix.MS_BIND | unix.MS_REC:            "MS_BIND|MS_REC",
		unix.MS_REMOUNT | unix.MS_RDONLY:      "MS_RDONLY|MS_REMOUNT",
		unix.MS_PRIVATE | unix.MS_REC | 1<<31: "MS_REC|MS_PRIVATE|0x80000000",
	} {
		if got := FormatFlags(flags); got != want {
			t.Errorf("FormatFlags(%#x) = %q, want %q", flags, got, want)
		}
	}
}

func TestRemountFlags(t *testing.T) {
	const nosuidNodev = unix.MS_NOSUID | unix.MS_NODEV
	for _, tc := range []struct {
		name              string
		want, clear, have uintptr
		out               uintptr
	}{
		{"keeps what the mount has", unix.MS_RDONLY, 0, nosuidNodev | unix.MS_RELATIME, unix.MS_RDONLY | nosuidNodev | unix.MS_RELATIME},
		{"explicit suid clears", unix.MS_RDONLY, unix.MS_NOSUID, nosuidNodev, unix.MS_RDONLY | unix.MS_NODEV},
		{"asked atime replaces", unix.MS_NOATIME, 0, unix.MS_RELATIME, unix.MS_NOATIME},
	} {
		if got := remountFlags(tc.want, tc.clear, tc.have); got != tc.out {
			t.Errorf("%s: %s, want %s", tc.name, FormatFlags(got), FormatFlags(tc.out))
		}
	}
}

func TestParseRecursiveOptions(t *testing.T) {
	for _, tc := range []struct {
		opts     []string
		set, clr uint64
		err      string
	}{
		{opts: []string{"rbind", "rro"}, set: unix.MOUNT_ATTR_RDONLY},
		{opts: []string{"rbind", "rro", "rrw"}, clr: unix.MOUNT_ATTR_RDONLY},
		{opts: []string{"rbind", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime"},
			set: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW | unix.MOUNT_ATTR_NODIRATIME},
		{opts: []string{"rbind", "rsuid", "rdev", "rexec", "rsymfollow", "rdiratime"},
			clr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC | unix.MOUNT_ATTR_NOSYMFOLLOW | unix.MOUNT_ATTR_NODIRATIME},
		// Access times are one setting: MOUNT_ATTR__ATIME is cleared,
		// the last option wins.
		{opts: []string{"rbind", "rnoatime"}, set: unix.MOUNT_ATTR_NOATIME, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "rnoatime", "rstrictatime"}, set: unix.MOUNT_ATTR_STRICTATIME, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "rnoatime", "rrelatime"}, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "rstrictatime", "ratime"}, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "rnorelatime"}, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "rnostrictatime"}, clr: unix.MOUNT_ATTR__ATIME},
		{opts: []string{"rbind", "idmap"}, err: "mount option idmap: idmapped mounts are not supported"},
		{opts: []string{"rbind", "ridmap"}, err: "mount option ridmap: idmapped mounts are not supported"},
	} {
		t.Run(strings.Join(tc.opts, ","), func(t *testing.T) {
			o, err := parseOptions(specs.Mount{Type: "bind", Options: tc.opts})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.rec.Attr_set != tc.set || o.rec.Attr_clr != tc.clr {
				t.Errorf("%s, want set %#x clear %#x", FormatAttr(o.rec), tc.set, tc.clr)
			}
			if o.flags != unix.MS_BIND|unix.MS_REC || len(o.data) != 0 {
				t.Errorf("flags %s data %q: recursive options must not become mount(2) flags or data", FormatFlags(o.flags), o.data)
			}
		})
	}
}

func TestFormatAttr(t *testing.T) {
	for _, tc := range []struct {
		a    unix.MountAttr
		want string
	}{
		{unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}, "set MOUNT_ATTR_RDONLY"},
		{unix.MountAttr{Attr_clr: unix.MOUNT_ATTR__ATIME}, "set MOUNT_ATTR_RELATIME, clear MOUNT_ATTR__ATIME"},
		{unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY, Attr_clr: unix.MOUNT_ATTR__ATIME}, "set MOUNT_ATTR_RDONLY|MOUNT_ATTR_RELATIME, clear MOUNT_ATTR__ATIME"},
		{unix.MountAttr{Attr_set: unix.MOUNT_ATTR_NOATIME, Attr_clr: unix.MOUNT_ATTR__ATIME}, "set MOUNT_ATTR_NOATIME, clear MOUNT_ATTR__ATIME"},
		{unix.MountAttr{Attr_clr: unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID}, "clear MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID"},
	} {
		if got := FormatAttr(tc.a); got != tc.want {
			t.Errorf("FormatAttr(%+v) = %q, want %q", tc.a, got, tc.want)
		}
	}
}
