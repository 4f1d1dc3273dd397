package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// Config is the root filesystem of one container, in the runtime-spec's
// own types so config.json feeds straight in (see FromSpec).
type Config struct {
	// Rootfs is the host directory that becomes "/" (config.md "root.path"),
	// absolute.
	Rootfs string `json:"rootfs,omitempty"`
	// Readonly remounts the root read-only once everything is set up
	// (config.md "root.readonly").
	Readonly bool `json:"readonly,omitempty"`
	// Propagation is config-linux.md "rootfsPropagation": "" (rslave, as
	// runc), private, rprivate, slave, rslave, shared, rshared, unbindable
	// or runbindable. It is set on "/" first, and again on the new "/"
	// after the pivot when given.
	Propagation string `json:"propagation,omitempty"`
	// Mounts are mounted in order (config.md "mounts"); Destination is a
	// path inside the rootfs, Source of a bind is a host path.
	Mounts []specs.Mount `json:"mounts,omitempty"`
	// MaskedPaths are hidden: /dev/null is bound over a file, an empty
	// read-only tmpfs over a directory (config-linux.md "maskedPaths").
	MaskedPaths []string `json:"masked_paths,omitempty"`
	// ReadonlyPaths are bound onto themselves and remounted read-only
	// (config-linux.md "readonlyPaths").
	ReadonlyPaths []string `json:"readonly_paths,omitempty"`
	// ProcWrites are written through the container's own /proc after the
	// mounts and before MaskedPaths and ReadonlyPaths, which may make them
	// read-only (/proc/sys): runc writes linux.sysctl at this point. The
	// caller checks what may be written (process.ValidateSysctls).
	ProcWrites []ProcWrite `json:"proc_writes,omitempty"`
	// SetupDev makes the minimal /dev: DefaultDevices and Devices, and the
	// links /dev/fd, /dev/std{in,out,err}, /dev/ptmx. FromSpec sets it
	// unless /dev is a bind mount (runc does the same).
	SetupDev bool `json:"setup_dev,omitempty"`
	// Devices are created in /dev after DefaultDevices (config-linux.md
	// "devices"); one with the path of a default device replaces it.
	Devices []specs.LinuxDevice `json:"devices,omitempty"`
	// Cwd, if set, is the process's working directory (config.md
	// "process.cwd"): created with its parents (0755) inside the rootfs
	// when missing, after the mounts and before anything is made
	// read-only, as runc does.
	Cwd string `json:"cwd,omitempty"`
	// BeforeFinal are the caller's steps that run on the new root, after
	// the pivot and before the final read-only changes (runc's
	// finalizeRootfs): the console, which needs /dev writable.
	BeforeFinal []step.Step `json:"-"`
	// MountSources holds, by index in Mounts, an open handle (O_PATH is
	// enough) on a bind mount's source, opened by the caller where the
	// source is reachable: with a user namespace, its root may not be
	// able to look up a host path the host's root can (runc 1.1's
	// mountFds). The bind is made from the handle; Source is not looked
	// up again. The steps do not close it.
	MountSources map[int]*os.File `json:"-"`
	// NoPivot uses MS_MOVE + chroot(2) instead of pivot_root(2), for a
	// rootfs that cannot be pivoted (an initramfs); runc's --no-pivot.
	// chroot leaves the old root in the mount namespace, under the new one.
	NoPivot bool `json:"no_pivot,omitempty"`
	// CgroupView, if set, is where the container's cgroups are, read
	// before its cgroup namespace was made (ReadCgroupView): a "cgroup"
	// mount on a cgroup v1 or hybrid host then binds the container's own
	// group of each host hierarchy instead of mounting each anew. It is
	// the reader's (the container's init), not part of a plan sent.
	CgroupView *CgroupView `json:"-"`
	// Warnings are what FromSpec accepted with runc 1.1's warning (a
	// relative mount destination), for the caller to log.
	Warnings []string `json:"-"`
}

// DefaultDevices are the device nodes config-linux.md "Default Devices"
// requires in every container (/dev/console only with a terminal, and
// /dev/ptmx is a link to pts/ptmx, both handled apart).
func DefaultDevices() []specs.LinuxDevice {
	dev := func(p string, major, minor int64) specs.LinuxDevice {
		mode := os.FileMode(0o666)
		uid, gid := uint32(0), uint32(0)
		return specs.LinuxDevice{Path: p, Type: "c", Major: major, Minor: minor, FileMode: &mode, UID: &uid, GID: &gid}
	}
	return []specs.LinuxDevice{
		dev("/dev/null", 1, 3),
		dev("/dev/zero", 1, 5),
		dev("/dev/full", 1, 7),
		dev("/dev/random", 1, 8),
		dev("/dev/urandom", 1, 9),
		dev("/dev/tty", 5, 0),
	}
}

// DefaultMaskedPaths is the list `runc spec` writes into config.json
// (runc 1.1 libcontainer/specconv Example), in its order; container's
// DefaultSpec and the rootfs command's --default-paths use it.
func DefaultMaskedPaths() []string {
	return []string{
		"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
		"/proc/sched_debug", "/sys/firmware", "/proc/scsi",
	}
}

// DefaultReadonlyPaths is the list `runc spec` writes into config.json
// (runc 1.1 libcontainer/specconv Example).
func DefaultReadonlyPaths() []string {
	return []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
}

// FromSpec takes the rootfs part of a config.json. Relative paths (root.path,
// bind sources) are relative to the bundle directory (config.md "root").
func FromSpec(spec *specs.Spec, bundle string) (Config, error) {
	if spec == nil || spec.Root == nil || spec.Root.Path == "" {
		return Config{}, errors.New("config: root.path is required")
	}
	c := Config{Rootfs: inBundle(bundle, spec.Root.Path), Readonly: spec.Root.Readonly, SetupDev: true}
	for _, m := range spec.Mounts {
		if m.Destination != "" && !path.IsAbs(m.Destination) {
			// runc 1.1 mounts it under the root (securejoin) after this
			// warning (libcontainer/specconv: createLibcontainerMount).
			c.Warnings = append(c.Warnings, fmt.Sprintf("mount destination %s is not absolute. "+
				"Support for non-absolute mount destinations will be removed in a future release.", m.Destination))
			m.Destination = underRoot(m.Destination)
		}
		if opts, err := parseOptions(m); err == nil && opts.bind() {
			m.Source = inBundle(bundle, m.Source)
			if path.Clean(m.Destination) == "/dev" {
				c.SetupDev = false
			}
		}
		c.Mounts = append(c.Mounts, m)
	}
	if spec.Process != nil {
		c.Cwd = spec.Process.Cwd
	}
	if l := spec.Linux; l != nil {
		c.Propagation = l.RootfsPropagation
		// runc 1.1 takes these relative to the new root without a word:
		// it masks and remounts them after chdir("/") and makes devices
		// with securejoin(rootfs, path).
		for _, p := range l.MaskedPaths {
			c.MaskedPaths = append(c.MaskedPaths, underRoot(p))
		}
		for _, p := range l.ReadonlyPaths {
			c.ReadonlyPaths = append(c.ReadonlyPaths, underRoot(p))
		}
		for _, d := range l.Devices {
			d.Path = underRoot(d.Path)
			c.Devices = append(c.Devices, d)
		}
	}
	return c, nil
}

// underRoot makes a non-empty relative path inside the container absolute
// ("tmp/x" is "/tmp/x"), as runc resolves it under the root.
func underRoot(p string) string {
	if p == "" || path.IsAbs(p) {
		return p
	}
	return path.Join("/", p)
}

func inBundle(bundle, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(bundle, p)
}

// knownType says whether this package knows how to mount filesystem t; others
// must be listed in /proc/filesystems (the kernel can mount them).
func knownType(t string) bool {
	switch t {
	case "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2", "bind":
		return true
	}
	return false
}

// Validate checks the config before anything is mounted, so bad input
// fails with nothing to clean up.
func (c *Config) Validate() error {
	if c.Rootfs == "" {
		return errors.New("rootfs: no path given")
	}
	if !filepath.IsAbs(c.Rootfs) {
		return errorf("rootfs %s: path is not absolute", c.Rootfs)
	}
	fi, err := os.Stat(c.Rootfs)
	if err != nil {
		return errorf("rootfs: %w", err)
	}
	if !fi.IsDir() {
		return errorf("rootfs %s: not a directory", c.Rootfs)
	}
	prop, err := ParsePropagation(c.Propagation)
	if err != nil {
		return errorf("rootfs propagation: %w", err)
	}
	if c.NoPivot && prop&unix.MS_PRIVATE != 0 {
		// runc 1.1 refuses the same (libcontainer/specconv).
		return errorf("rootfsPropagation %s is not safe without pivot_root (--no-pivot)", c.Propagation)
	}
	for i, m := range c.Mounts {
		if err := validateMount(m, c.MountSources[i] != nil); err != nil {
			return errorf("mount %d (%s on %s): %w", i+1, m.Type, m.Destination, err)
		}
	}
	for _, p := range c.MaskedPaths {
		if err := inRootPath(p); err != nil {
			return errorf("masked path: %w", err)
		}
	}
	for _, p := range c.ReadonlyPaths {
		if err := inRootPath(p); err != nil {
			return errorf("readonly path: %w", err)
		}
	}
	for _, d := range c.Devices {
		if err := validateDevice(d); err != nil {
			return errorf("device %s: %w", d.Path, err)
		}
	}
	return nil
}

// inRootPath checks a path meant inside the container: absolute, and not
// the root itself.
func inRootPath(p string) error {
	if !path.IsAbs(p) {
		return errorf("%q is not an absolute path", p)
	}
	if path.Clean(p) == "/" {
		return errorf("%q is the root itself", p)
	}
	return nil
}

// validateMount checks one mount; haveSource: the bind source is given
// as a handle (Config.MountSources), its path is not looked up.
func validateMount(m specs.Mount, haveSource bool) error {
	if m.Destination == "" {
		return errors.New("no destination")
	}
	if !path.IsAbs(m.Destination) {
		return errorf("destination %q is not absolute", m.Destination)
	}
	if path.Clean(m.Destination) == "/" {
		return errors.New("cannot mount over the root (it is root.path)")
	}
	opts, err := parseOptions(m)
	if err != nil {
		return err
	}
	if opts.bind() {
		if m.Source == "" || !filepath.IsAbs(m.Source) {
			return errorf("bind source %q is not an absolute host path", m.Source)
		}
		if haveSource {
			return nil
		}
		if _, err := os.Stat(m.Source); err != nil {
			return errorf("bind source: %w", err)
		}
		return nil
	}
	switch {
	case m.Type == "" || m.Type == "none":
		return errorf("no filesystem type (and not a bind mount)")
	case m.Type == "bind":
		return errors.New("type bind needs a bind or rbind option")
	case knownType(m.Type) || kernelHasFilesystem(m.Type):
		return nil
	}
	return errorf("unknown filesystem type %q (not in /proc/filesystems)", m.Type)
}

// kernelHasFilesystem reads /proc/filesystems ("nodev\tproc" lines).
func kernelHasFilesystem(typ string) bool {
	data, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[len(f)-1] == typ {
			return true
		}
	}
	return false
}

func validateDevice(d specs.LinuxDevice) error {
	if err := inRootPath(d.Path); err != nil {
		return err
	}
	switch d.Type {
	case "c", "u", "b", "p":
	default:
		return errorf("unknown device type %q (want c, u, b or p)", d.Type)
	}
	if d.Type != "p" && (d.Major < 0 || d.Minor < 0) {
		return errorf("bad device number %d:%d", d.Major, d.Minor)
	}
	return nil
}

// devices is DefaultDevices then Devices, a later one replacing an earlier
// one with the same path.
func (c *Config) devices() []specs.LinuxDevice {
	all := append(DefaultDevices(), c.Devices...)
	var out []specs.LinuxDevice
	for i, d := range all {
		replaced := false
		for _, later := range all[i+1:] {
			if path.Clean(later.Path) == path.Clean(d.Path) {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, d)
		}
	}
	return out
}

// ProcWrite is one write to a file of the container's procfs.
type ProcWrite struct {
	Path  string // relative to /proc: "sys/net/ipv4/ip_forward"
	Value string
	Why   string // for --explain: "sysctl net.ipv4.ip_forward"
}
