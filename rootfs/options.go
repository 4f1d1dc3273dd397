package rootfs

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// mountOptions is one specs.Mount's option list split the way mount(2)
// wants it: flags for the flags argument, propagation changes that need
// their own mount(2) call after the mount exists, and the rest joined
// into the data argument the filesystem parses (mount(8) does the same).
type mountOptions struct {
	flags       uintptr   // MS_* set by the options (ro, nosuid, ...)
	clear       uintptr   // MS_* the options asked to keep off (rw, suid, ...)
	propagation []uintptr // MS_SHARED, MS_SLAVE|MS_REC, ... in order
	data        []string  // filesystem options: "mode=755", "newinstance"
	// copyUp is runc's "tmpcopyup" extension: a tmpfs starts with a copy
	// of what the rootfs had at its mount point (podman --read-only and
	// --tmpfs ask for it).
	copyUp bool
	// rec is what the recursive options (rro, rnosuid, ...) change on
	// the mount and every mount below it, with mount_setattr(2)
	// AT_RECURSIVE (runtime-spec config.md "mounts"; Linux 5.12).
	rec unix.MountAttr
}

// hasRec reports whether recursive options were given.
func (o mountOptions) hasRec() bool { return o.rec.Attr_set != 0 || o.rec.Attr_clr != 0 }

// readonly reports whether the mount is to be read-only (ro or rro).
func (o mountOptions) readonly() bool {
	return o.flags&unix.MS_RDONLY != 0 || o.rec.Attr_set&unix.MOUNT_ATTR_RDONLY != 0
}

// FormatAttr names a mount_setattr(2) change: "set MOUNT_ATTR_RDONLY,
// clear MOUNT_ATTR__ATIME".
func FormatAttr(a unix.MountAttr) string {
	var parts []string
	for _, x := range []struct {
		what string
		v    uint64
	}{{"set", a.Attr_set}, {"clear", a.Attr_clr}} {
		if x.v == 0 && !(x.what == "set" && a.Attr_clr&unix.MOUNT_ATTR__ATIME != 0) {
			continue
		}
		bits := formatAttrBits(x.v)
		if x.what == "set" && x.v != 0 && x.v&unix.MOUNT_ATTR__ATIME == 0 && a.Attr_clr&unix.MOUNT_ATTR__ATIME != 0 {
			bits += "|MOUNT_ATTR_RELATIME" // the atime mode 0, set with the others
		}
		parts = append(parts, x.what+" "+bits)
	}
	return strings.Join(parts, ", ")
}

var attrNames = []struct {
	v    uint64
	name string
}{
	{unix.MOUNT_ATTR__ATIME, "MOUNT_ATTR__ATIME"},
	{unix.MOUNT_ATTR_RDONLY, "MOUNT_ATTR_RDONLY"},
	{unix.MOUNT_ATTR_NOSUID, "MOUNT_ATTR_NOSUID"},
	{unix.MOUNT_ATTR_NODEV, "MOUNT_ATTR_NODEV"},
	{unix.MOUNT_ATTR_NOEXEC, "MOUNT_ATTR_NOEXEC"},
	{unix.MOUNT_ATTR_NOATIME, "MOUNT_ATTR_NOATIME"},
	{unix.MOUNT_ATTR_STRICTATIME, "MOUNT_ATTR_STRICTATIME"},
	{unix.MOUNT_ATTR_NODIRATIME, "MOUNT_ATTR_NODIRATIME"},
	{unix.MOUNT_ATTR_NOSYMFOLLOW, "MOUNT_ATTR_NOSYMFOLLOW"},
}

func formatAttrBits(v uint64) string {
	var names []string
	for _, n := range attrNames {
		if v&n.v == n.v && n.v != 0 {
			names = append(names, n.name)
			v &^= n.v
		}
	}
	if v != 0 {
		names = append(names, fmt.Sprintf("%#x", v))
	}
	if len(names) == 0 {
		return "MOUNT_ATTR_RELATIME"
	}
	return strings.Join(names, "|")
}

// bind reports whether the mount is a bind mount (MS_BIND).
func (o mountOptions) bind() bool { return o.flags&unix.MS_BIND != 0 }

// flagOption is one mount(8) option that maps to an MS_* flag.
type flagOption struct {
	name  string
	clear bool // the option turns the flag off ("rw" clears MS_RDONLY)
	flag  uintptr
}

// flagOptions are the options mount(8) turns into MS_* flags (see
// mount(8) "FILESYSTEM-INDEPENDENT MOUNT OPTIONS"; runc accepts the same).
var flagOptions = [...]flagOption{
	{"defaults", false, 0},
	{"ro", false, unix.MS_RDONLY},
	{"rw", true, unix.MS_RDONLY},
	{"nosuid", false, unix.MS_NOSUID},
	{"suid", true, unix.MS_NOSUID},
	{"nodev", false, unix.MS_NODEV},
	{"dev", true, unix.MS_NODEV},
	{"noexec", false, unix.MS_NOEXEC},
	{"exec", true, unix.MS_NOEXEC},
	{"sync", false, unix.MS_SYNCHRONOUS},
	{"async", true, unix.MS_SYNCHRONOUS},
	{"dirsync", false, unix.MS_DIRSYNC},
	{"mand", false, unix.MS_MANDLOCK},
	{"nomand", true, unix.MS_MANDLOCK},
	{"noatime", false, unix.MS_NOATIME},
	{"atime", true, unix.MS_NOATIME},
	{"nodiratime", false, unix.MS_NODIRATIME},
	{"diratime", true, unix.MS_NODIRATIME},
	{"relatime", false, unix.MS_RELATIME},
	{"norelatime", true, unix.MS_RELATIME},
	{"strictatime", false, unix.MS_STRICTATIME},
	{"nostrictatime", true, unix.MS_STRICTATIME},
	{"lazytime", false, unix.MS_LAZYTIME},
	{"nolazytime", true, unix.MS_LAZYTIME},
	{"silent", false, unix.MS_SILENT},
	{"loud", true, unix.MS_SILENT},
	{"nosymfollow", false, unix.MS_NOSYMFOLLOW},
	{"bind", false, unix.MS_BIND},
	{"rbind", false, unix.MS_BIND | unix.MS_REC},
}

// recAttrOption is one recursive mount option: MOUNT_ATTR_* to set, or to
// clear (clear true), on a mount and every mount below it.
type recAttrOption struct {
	name  string
	clear bool
	attr  uint64
}

// recAttrOptions are runtime-spec config.md's recursive mount options
// (runc 1.1's list), applied with mount_setattr(2) AT_RECURSIVE.
// The access-time ones are one setting, not bits: each sets
// MOUNT_ATTR__ATIME in attr_clr (mount_setattr(2)); ratime, rnorelatime
// and rnostrictatime give the kernel's default, relatime, as their
// mount(8) forms do with mount(2).
var recAttrOptions = [...]recAttrOption{
	{"rro", false, unix.MOUNT_ATTR_RDONLY},
	{"rrw", true, unix.MOUNT_ATTR_RDONLY},
	{"rnosuid", false, unix.MOUNT_ATTR_NOSUID},
	{"rsuid", true, unix.MOUNT_ATTR_NOSUID},
	{"rnodev", false, unix.MOUNT_ATTR_NODEV},
	{"rdev", true, unix.MOUNT_ATTR_NODEV},
	{"rnoexec", false, unix.MOUNT_ATTR_NOEXEC},
	{"rexec", true, unix.MOUNT_ATTR_NOEXEC},
	{"rnodiratime", false, unix.MOUNT_ATTR_NODIRATIME},
	{"rdiratime", true, unix.MOUNT_ATTR_NODIRATIME},
	{"rnosymfollow", false, unix.MOUNT_ATTR_NOSYMFOLLOW},
	{"rsymfollow", true, unix.MOUNT_ATTR_NOSYMFOLLOW},
	{"rrelatime", false, unix.MOUNT_ATTR_RELATIME},
	{"rnorelatime", true, unix.MOUNT_ATTR_RELATIME},
	{"rnoatime", false, unix.MOUNT_ATTR_NOATIME},
	{"ratime", true, unix.MOUNT_ATTR_NOATIME},
	{"rstrictatime", false, unix.MOUNT_ATTR_STRICTATIME},
	{"rnostrictatime", true, unix.MOUNT_ATTR_STRICTATIME},
}

// addRecAttr adds one recursive option to a; a later option wins over an
// earlier one that changes the same attribute.
func addRecAttr(a *unix.MountAttr, o recAttrOption) {
	if o.attr&unix.MOUNT_ATTR__ATIME == o.attr { // MOUNT_ATTR_RELATIME is 0
		a.Attr_clr |= unix.MOUNT_ATTR__ATIME
		a.Attr_set &^= unix.MOUNT_ATTR__ATIME
		if !o.clear {
			a.Attr_set |= o.attr
		}
		return
	}
	if o.clear {
		a.Attr_clr |= o.attr
		a.Attr_set &^= o.attr
	} else {
		a.Attr_set |= o.attr
		a.Attr_clr &^= o.attr
	}
}

// propagationOptions change a mount's propagation type, which mount(2)
// only accepts alone, in a call of its own (see mount_namespaces(7),
// "Shared subtrees"). The r* forms apply to every mount below too.
var propagationOptions = [...]namedFlag{
	{"private", unix.MS_PRIVATE},
	{"rprivate", unix.MS_PRIVATE | unix.MS_REC},
	{"shared", unix.MS_SHARED},
	{"rshared", unix.MS_SHARED | unix.MS_REC},
	{"slave", unix.MS_SLAVE},
	{"rslave", unix.MS_SLAVE | unix.MS_REC},
	{"unbindable", unix.MS_UNBINDABLE},
	{"runbindable", unix.MS_UNBINDABLE | unix.MS_REC},
}

// ParsePropagation maps a rootfsPropagation value (config-linux.md) to
// mount(2) flags. "" means the runtime's default (rslave, as runc) and
// returns 0.
func ParsePropagation(s string) (uintptr, error) {
	if s == "" {
		return 0, nil
	}
	f, ok := lookupPropagation(s)
	if !ok {
		return 0, errorf("unknown propagation %q (want one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable)", s)
	}
	return f, nil
}

// bareDataOptions are the option words without "=" that a filesystem
// parses itself. Any "key=value" goes to the filesystem too; a bare word
// that is neither a flag nor listed here is a typo and rejected before
// anything is mounted. Types not listed pass every word through.
var bareDataOptions = [...]struct {
	typ   string
	words []string
}{
	{"bind", []string{}},
	{"proc", []string{}},
	{"sysfs", []string{}},
	{"mqueue", []string{}},
	{"devpts", []string{"newinstance"}},
	{"tmpfs", []string{"noswap", "inode32", "inode64", "quota", "usrquota", "grpquota"}},
	{"cgroup2", []string{"nsdelegate", "memory_recursiveprot", "memory_localevents", "favordynmods", "memory_hugetlb_accounting"}},
}

// parseOptions splits m.Options for mount(2).
func parseOptions(m specs.Mount) (mountOptions, error) {
	var o mountOptions
	for _, opt := range m.Options {
		if f, ok := lookupFlagOption(opt); ok {
			if f.clear {
				o.flags &^= f.flag
				o.clear |= f.flag
			} else {
				o.flags |= f.flag
				o.clear &^= f.flag
			}
			continue
		}
		if p, ok := lookupPropagation(opt); ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if r, ok := lookupRecAttr(opt); ok {
			addRecAttr(&o.rec, r)
			continue
		}
		if opt == "idmap" || opt == "ridmap" {
			return o, errorf("mount option %s: idmapped mounts are not supported", opt)
		}
		if opt == "tmpcopyup" {
			if m.Type != "tmpfs" {
				return o, errorf("mount option tmpcopyup is for tmpfs, not %s", plain(m.Type))
			}
			o.copyUp = true
			continue
		}
		o.data = append(o.data, opt)
	}
	typ := m.Type
	if o.bind() {
		typ = "bind"
	}
	known, listed := lookupBareData(typ)
	for _, d := range o.data {
		if d == "" {
			return o, errorf("empty mount option")
		}
		if strings.Contains(d, "=") && typ != "bind" {
			continue
		}
		if listed && !contains(known, d) {
			return o, errorf("unknown mount option %q for %s", d, plain(typ))
		}
	}
	return o, nil
}

// plain is s as is when it is a plain word ("tmpfs"), else quoted, so
// that an error naming a user's type stays one readable line.
func plain(s string) string {
	for _, r := range s {
		if r <= ' ' || r > '~' || r == '"' {
			return strconv.Quote(s)
		}
	}
	if s == "" {
		return `""`
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// flagNames are the MS_* names --explain prints, in a fixed order.
var flagNames = []struct {
	flag uintptr
	name string
}{
	{unix.MS_RDONLY, "MS_RDONLY"},
	{unix.MS_NOSUID, "MS_NOSUID"},
	{unix.MS_NODEV, "MS_NODEV"},
	{unix.MS_NOEXEC, "MS_NOEXEC"},
	{unix.MS_SYNCHRONOUS, "MS_SYNCHRONOUS"},
	{unix.MS_REMOUNT, "MS_REMOUNT"},
	{unix.MS_MANDLOCK, "MS_MANDLOCK"},
	{unix.MS_DIRSYNC, "MS_DIRSYNC"},
	{unix.MS_NOSYMFOLLOW, "MS_NOSYMFOLLOW"},
	{unix.MS_NOATIME, "MS_NOATIME"},
	{unix.MS_NODIRATIME, "MS_NODIRATIME"},
	{unix.MS_BIND, "MS_BIND"},
	{unix.MS_MOVE, "MS_MOVE"},
	{unix.MS_REC, "MS_REC"},
	{unix.MS_SILENT, "MS_SILENT"},
	{unix.MS_UNBINDABLE, "MS_UNBINDABLE"},
	{unix.MS_PRIVATE, "MS_PRIVATE"},
	{unix.MS_SLAVE, "MS_SLAVE"},
	{unix.MS_SHARED, "MS_SHARED"},
	{unix.MS_RELATIME, "MS_RELATIME"},
	{unix.MS_STRICTATIME, "MS_STRICTATIME"},
	{unix.MS_LAZYTIME, "MS_LAZYTIME"},
}

// FormatFlags names mount(2) flags: "MS_BIND|MS_REC", or "0".
func FormatFlags(flags uintptr) string {
	var names []string
	for _, f := range flagNames {
		if flags&f.flag != 0 {
			names = append(names, f.name)
			flags &^= f.flag
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// ParseMountSpec parses the command line form of a mount,
// TYPE:SOURCE:DEST[:OPT,OPT...], e.g. "tmpfs:tmpfs:/tmp:size=64m,nosuid"
// or "bind:/srv/data:/data:ro". Type "bind" becomes a bind mount (the
// "bind" option is added), as in config.json.
func ParseMountSpec(s string) (specs.Mount, error) {
	parts := strings.SplitN(s, ":", 4)
	if len(parts) < 3 {
		return specs.Mount{}, errorf("mount %q: want TYPE:SOURCE:DEST[:OPTIONS]", s)
	}
	m := specs.Mount{Type: parts[0], Source: parts[1], Destination: parts[2]}
	if m.Type == "" {
		return specs.Mount{}, errorf("mount %q: empty type", s)
	}
	if len(parts) == 4 && parts[3] != "" {
		m.Options = strings.Split(parts[3], ",")
	}
	if m.Type == "bind" || m.Type == "rbind" {
		if !contains(m.Options, "bind") && !contains(m.Options, "rbind") {
			m.Options = append([]string{m.Type}, m.Options...)
		}
		m.Type = "bind"
	}
	return m, nil
}

// The option tables are static arrays searched in order: nothing is
// built at start or on first use, and they take less binary than maps.

// namedFlag is an option word and its mount(2) flags.
type namedFlag struct {
	name string
	flag uintptr
}

func lookupFlagOption(s string) (flagOption, bool) {
	for _, o := range flagOptions {
		if o.name == s {
			return o, true
		}
	}
	return flagOption{}, false
}

func lookupRecAttr(s string) (recAttrOption, bool) {
	for _, o := range recAttrOptions {
		if o.name == s {
			return o, true
		}
	}
	return recAttrOption{}, false
}

func lookupPropagation(s string) (uintptr, bool) {
	for _, o := range propagationOptions {
		if o.name == s {
			return o.flag, true
		}
	}
	return 0, false
}

// lookupBareData returns the bare words filesystem typ takes; listed is
// false for a type that is not in the table (every word passes).
func lookupBareData(typ string) (words []string, listed bool) {
	for _, o := range bareDataOptions {
		if o.typ == typ {
			return o.words, true
		}
	}
	return nil, false
}
