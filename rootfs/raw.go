package rootfs

import (
	"path/filepath"
	"slices"

	"github.com/ctr-lite/ctr-lite/raw"
)

// RawSteps appends to p the system calls that make c.Rootfs the root of
// the child that runs p, with the kernel result of ValidatedSteps(c): the
// same mounts, flags, propagation, mount order, /dev, masked and
// read-only paths, sysctls, process.cwd, pivot_root (or chroot) and final
// read-only changes. c is a config Validate accepted.
//
// The child runs p after fork, in its own mount namespace (already
// unshared), without the Go runtime: every path and struct is prepared
// here, every fd it needs the child opens itself (a handle opened here is
// on the host's mounts, which the kernel will not bind into another mount
// namespace: open_tree(2) and mount(2) MS_BIND give EINVAL). Paths inside
// the rootfs are resolved by openat2(2) RESOLVE_IN_ROOT below the rootfs's
// fd, filesystems are made with fsopen(2)/fsmount(2) and attached with
// move_mount(2), binds are open_tree(2) clones, and flags and propagation
// are changed with mount_setattr(2) on the mount's fd: no
// /proc/thread-self/fd/N path is ever used.
//
// It returns a *raw.NeedsGo, with nothing appended to p, for a config
// that needs the Go init (planRaw lists them); after any other error p
// holds part of the ops and is not to be run.
//
// The caller sets Config.CgroupView on a cgroup v1 or hybrid host when
// the config has a "cgroup" mount (CgroupViewOf the container's groups:
// the child must be in them when it runs p), and no MountSources or
// BeforeFinal. What is looked up here (bind sources, the mount holding
// the rootfs, the host's cgroup mounts) is looked up in the caller's
// mount namespace, which the child's new one copies.
func RawSteps(c Config, p *raw.Prog) error {
	real, err := filepath.EvalSymlinks(c.Rootfs)
	if err != nil {
		return errorf("rootfs: %w", err)
	}
	s := &setup{cfg: c, rootReal: real}
	pl, why := planRaw(s)
	if why != "" {
		return &raw.NeedsGo{Why: why}
	}
	// Room for the ops at once: growing a slice of a few hundred ops
	// by doubling copied most of what this function allocated.
	c = s.cfg
	n := 40 + 24*len(c.Mounts) + 14*len(pl.cgroups) + 16*len(c.MaskedPaths) + 8*len(c.ReadonlyPaths) + 6*len(c.ProcWrites)
	if c.SetupDev {
		n += 24*len(c.devices()) + 8
	}
	p.Ops, p.Steps = slices.Grow(p.Ops, n), slices.Grow(p.Steps, n)
	b := newRawBuilder(s, pl, p)
	return b.build()
}

// build appends the ops in ValidatedSteps' order.
func (b *rawBuilder) build() error {
	c := &b.s.cfg
	steps := []func() error{b.prepare}
	for i := range c.Mounts {
		i := i
		steps = append(steps, func() error { return b.mount(i) })
	}
	if c.SetupDev {
		steps = append(steps, b.dev)
	}
	if c.Cwd != "" {
		steps = append(steps, b.cwd)
	}
	if len(c.ProcWrites) > 0 {
		steps = append(steps, b.procWrites)
	}
	if len(c.MaskedPaths) > 0 {
		steps = append(steps, b.masks)
	}
	for _, p := range c.ReadonlyPaths {
		p := p
		steps = append(steps, func() error { return b.readonly(p) })
	}
	if c.NoPivot {
		steps = append(steps, b.chroot)
	} else {
		steps = append(steps, b.pivot)
	}
	if c.Propagation != "" {
		steps = append(steps, b.propagation)
	}
	steps = append(steps, b.final)
	for _, f := range steps {
		if err := f(); err != nil {
			return err
		}
	}
	return b.err
}
