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
}

// bind reports whether the mount is a bind mount (MS_BIND).
func (o mountOptions) bind() bool { return o.flags&unix.MS_BIND != 0 }

// flagOption is one mount(8) option that maps to an MS_* flag.
type flagOption struct {
	clear bool // the option turns the flag off ("rw" clears MS_RDONLY)
	flag  uintptr
}

// flagOptions are the options mount(8) turns into MS_* flags (see
// mount(8) "FILESYSTEM-INDEPENDENT MOUNT OPTIONS"; runc accepts the same).
var flagOptions = map[string]flagOption{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"atime":         {true, unix.MS_NOATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
}

// propagationOptions change a mount's propagation type, which mount(2)
// only accepts alone, in a call of its own (see mount_namespaces(7),
// "Shared subtrees"). The r* forms apply to every mount below too.
var propagationOptions = map[string]uintptr{
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ParsePropagation maps a rootfsPropagation value (config-linux.md) to
// mount(2) flags. "" means the runtime's default (rslave, as runc) and
// returns 0.
func ParsePropagation(s string) (uintptr, error) {
	if s == "" {
		return 0, nil
	}
	f, ok := propagationOptions[s]
	if !ok {
		return 0, fmt.Errorf("unknown propagation %q (want one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable)", s)
	}
	return f, nil
}

// bareDataOptions are the option words without "=" that a filesystem
// parses itself. Any "key=value" goes to the filesystem too; a bare word
// that is neither a flag nor listed here is a typo and rejected before
// anything is mounted. Types not listed pass every word through.
var bareDataOptions = map[string][]string{
	"bind":    {},
	"proc":    {},
	"sysfs":   {},
	"mqueue":  {},
	"devpts":  {"newinstance"},
	"tmpfs":   {"noswap", "inode32", "inode64", "quota", "usrquota", "grpquota"},
	"cgroup2": {"nsdelegate", "memory_recursiveprot", "memory_localevents", "favordynmods", "memory_hugetlb_accounting"},
}

// parseOptions splits m.Options for mount(2).
func parseOptions(m specs.Mount) (mountOptions, error) {
	var o mountOptions
	for _, opt := range m.Options {
		if f, ok := flagOptions[opt]; ok {
			if f.clear {
				o.flags &^= f.flag
				o.clear |= f.flag
			} else {
				o.flags |= f.flag
				o.clear &^= f.flag
			}
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.propagation = append(o.propagation, p)
			continue
		}
		if opt == "tmpcopyup" {
			if m.Type != "tmpfs" {
				return o, fmt.Errorf("mount option tmpcopyup is for tmpfs, not %s", plain(m.Type))
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
	known, listed := bareDataOptions[typ]
	for _, d := range o.data {
		if d == "" {
			return o, fmt.Errorf("empty mount option")
		}
		if strings.Contains(d, "=") && typ != "bind" {
			continue
		}
		if listed && !contains(known, d) {
			return o, fmt.Errorf("unknown mount option %q for %s", d, plain(typ))
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
		return specs.Mount{}, fmt.Errorf("mount %q: want TYPE:SOURCE:DEST[:OPTIONS]", s)
	}
	m := specs.Mount{Type: parts[0], Source: parts[1], Destination: parts[2]}
	if m.Type == "" {
		return specs.Mount{}, fmt.Errorf("mount %q: empty type", s)
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
