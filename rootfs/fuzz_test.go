package rootfs

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FuzzMountOptions: a config.json mount's options (and the command line's
// TYPE:SOURCE:DEST:OPTIONS form) either fail in one line, before anything
// is mounted, or split into exactly what mount(8) would make of them:
// flags as the last of each on/off pair says, propagation words in order,
// the rest for the filesystem, none empty.
func FuzzMountOptions(f *testing.F) {
	for _, seed := range [][2]string{
		{"tmpfs", "nosuid,strictatime,mode=755,size=65536k"},
		{"bind", "rbind,ro,rprivate"},
		{"proc", "nosuid,noexec,nodev"},
		{"devpts", "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5"},
		{"tmpfs", "tmpcopyup,rw,noswap"},
		{"sysfs", "tmpcopyup"},
		{"mqueue", "nosuid,noexec,nodev,bogus"},
		{"cgroup2", "nsdelegate,ro,rslave"},
		{"tmpfs", "ro,rw,ro,,mode=1777"},
		{"overlay", "lowerdir=/a:/b,upperdir=/c,workdir=/d,index=off,rro"},
		{"bind", "bind,x=y"},
		{"", "defaults"},
		{"tmpfs:tmpfs:/tmp", "size=64m,nosuid"},
		{"bind:/srv/data:/data", "ro"},
		{"rbind:/a:/b", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, typ, opts string) {
		m := specs.Mount{Type: typ, Source: "src", Destination: "/dst"}
		if opts != "" {
			m.Options = strings.Split(opts, ",")
		}
		checkOptions(t, m)
		spec := typ + ":" + opts
		pm, err := ParseMountSpec(spec)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("ParseMountSpec(%q): error is not one line: %q", spec, err)
			}
			return
		}
		if pm.Type == "" || pm.Type == "rbind" || (pm.Type == "bind" && !contains(pm.Options, "bind") && !contains(pm.Options, "rbind")) {
			t.Fatalf("ParseMountSpec(%q) = %+v: a bind type without a bind option", spec, pm)
		}
		checkOptions(t, pm)
	})
}

func checkOptions(t *testing.T, m specs.Mount) {
	t.Helper()
	o, err := parseOptions(m)
	if err != nil {
		if strings.Contains(err.Error(), "\n") {
			t.Fatalf("parseOptions(%q, %q): error is not one line: %q", m.Type, m.Options, err)
		}
		return
	}
	// The model: each flag word sets or clears its flags, the last wins.
	var flags, clear uintptr
	var prop int
	for _, opt := range m.Options {
		if f, ok := lookupFlagOption(opt); ok {
			if f.clear {
				flags &^= f.flag
				clear |= f.flag
			} else {
				flags |= f.flag
				clear &^= f.flag
			}
		}
		if _, ok := lookupPropagation(opt); ok {
			prop++
		}
	}
	if o.flags != flags || o.clear != clear || o.flags&o.clear != 0 {
		t.Fatalf("parseOptions(%q): flags %s clear %s, want %s and %s", m.Options, FormatFlags(o.flags), FormatFlags(o.clear), FormatFlags(flags), FormatFlags(clear))
	}
	if len(o.propagation) != prop {
		t.Fatalf("parseOptions(%q): %d propagation changes, want %d", m.Options, len(o.propagation), prop)
	}
	for _, p := range o.propagation {
		switch p &^ unix.MS_REC {
		case unix.MS_SHARED, unix.MS_SLAVE, unix.MS_PRIVATE, unix.MS_UNBINDABLE:
		default:
			t.Fatalf("parseOptions(%q): propagation %s is not one type", m.Options, FormatFlags(p))
		}
	}
	if o.copyUp && m.Type != "tmpfs" {
		t.Fatalf("parseOptions(%q): tmpcopyup accepted for %q", m.Options, m.Type)
	}
	for _, d := range o.data {
		if d == "" {
			t.Fatalf("parseOptions(%q): an empty filesystem option passed", m.Options)
		}
		if _, ok := lookupFlagOption(d); ok {
			t.Fatalf("parseOptions(%q): flag word %q passed to the filesystem", m.Options, d)
		}
	}
	if s := FormatFlags(o.flags); s == "" || strings.Contains(s, "\n") {
		t.Fatalf("FormatFlags(%#x) = %q", o.flags, s)
	}
}
