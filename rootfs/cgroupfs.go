package rootfs

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// v1Hierarchy is one cgroup v1 hierarchy mounted on the host.
type v1Hierarchy struct {
	name string // directory under /sys/fs/cgroup: "memory", "cpu,cpuacct", "systemd"
	opts string // what mount(2) needs to mount it again: "memory", "name=systemd"
	mnt  string // where the host has it mounted: "/sys/fs/cgroup/memory"
	root string // the group the mount shows as its root (mountinfo's root)
}

// cgroupLayout reads /proc/thread-self/mountinfo (moby/sys/mountinfo,
// which undoes its octal escapes): the v1 hierarchies and whether a
// cgroup2 hierarchy is mounted beside them (hybrid).
// v2mnt is where the cgroup2 hierarchy is mounted ("" if nowhere).
func cgroupLayout() (v1 []v1Hierarchy, v2mnt string, err error) {
	v1, v2, err := cgroupHierarchies()
	return v1, v2.mnt, err
}

// cgroupHierarchies is cgroupLayout with the cgroup2 mount's root too
// (v2.mnt "": none; its opts are "").
func cgroupHierarchies() (v1 []v1Hierarchy, v2 v1Hierarchy, err error) {
	mounts, err := mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup", "cgroup2"))
	if err != nil {
		return nil, v2, err
	}
	seen := map[string]bool{}
	for _, m := range mounts {
		if m.FSType == "cgroup2" {
			if v2.mnt == "" {
				v2 = v1Hierarchy{name: "unified", mnt: m.Mountpoint, root: m.Root}
			}
			continue
		}
		var ctrls []string
		for _, o := range strings.Split(m.VFSOptions, ",") {
			switch o {
			case "rw", "ro", "relatime", "noatime", "nosuid", "nodev", "noexec", "clone_children", "xattr", "noprefix":
				continue
			}
			if strings.HasPrefix(o, "release_agent=") {
				continue
			}
			ctrls = append(ctrls, o)
		}
		opts := strings.Join(ctrls, ",")
		if opts == "" || seen[opts] {
			continue
		}
		seen[opts] = true
		v1 = append(v1, v1Hierarchy{name: path.Base(m.Mountpoint), opts: opts, mnt: m.Mountpoint, root: m.Root})
	}
	return v1, v2, nil
}

// cgroupV1Steps mount a "cgroup" mount the way runc does on a cgroup v1
// or hybrid host: a tmpfs at dest, then each v1 hierarchy in a directory
// of its own (and cgroup2 at "unified" on a hybrid host). In a cgroup
// namespace each shows the container's own group as its root; without
// one, the container's own group is bound over it (as runc does), so
// /sys/fs/cgroup/memory/memory.limit_in_bytes is the container's limit.
// With Config.CgroupView each is instead a bind of the container's own
// group from the host's mount (bindOwnHierarchy): the same view, no new
// mount.
// lateRO: the mount is read-only but something goes below it later, so
// the tmpfs is made read-only by the final steps (the hierarchies now).
func (s *setup) cgroupV1Steps(m specs.Mount, dest string, opts mountOptions, lateRO bool) []step.Step {
	flags := opts.flags &^ unix.MS_RDONLY
	if lateRO {
		opts.flags |= unix.MS_RDONLY
	}
	steps := []step.Step{{
		Op:   "mount",
		Args: fmt.Sprintf("\"tmpfs\", %q, \"tmpfs\", %s, \"mode=755\"", s.host(dest), FormatFlags(flags)),
		Why:  whyCgroupTmpfs,
		Do: func() error {
			s.pin(dest, nil) // a mount over an earlier one at dest
			t, err := s.mkdirAll(dest)
			if err != nil {
				return err
			}
			defer t.Close()
			// The tmpfs is kept by fd: the hierarchies are made in it,
			// and it is made read-only, through that fd.
			if attrs, ok := mountAttrs(flags); ok {
				top, err := newTmpfs("tmpfs", []string{"mode=755"}, attrs)
				if err == nil {
					return s.attach(top, t, dest)
				}
				if !errors.Is(err, unix.ENOSYS) {
					return err
				}
			}
			return unix.Mount("tmpfs", fdPath(t), "tmpfs", flags, "mode=755")
		},
	}}
	args := fmt.Sprintf("\"cgroup\", %q/<hierarchy>, \"cgroup\", %s, <controllers>", s.host(dest), FormatFlags(opts.flags))
	why := "each v1 hierarchy of mountinfo, by its controllers"
	if s.cfg.CgroupView != nil {
		args = fmt.Sprintf("<host hierarchy>/<own group>, %q/<hierarchy>, \"\", MS_BIND, then MS_PRIVATE and %s", s.host(dest), FormatFlags(opts.flags))
		why = whyCgroupView
	}
	var bound, mounted []string // hierarchy names, for the read-back
	steps = append(steps, step.Step{
		Op:   "mount",
		Args: args,
		Why:  why,
		Do: func() error {
			// With a CgroupView, its hierarchies (read before our cgroup
			// namespace, which shows every mount's root relative to it).
			v1, v2, err := []v1Hierarchy(nil), v1Hierarchy{}, error(nil)
			if cv := s.cfg.CgroupView; cv != nil {
				for _, h := range cv.mounts {
					if h.opts == "" {
						v2 = h
					} else {
						v1 = append(v1, h)
					}
				}
			} else if v1, v2, err = cgroupHierarchies(); err != nil {
				return err
			}
			var own map[string]string // read only for a new mount
			each := func(d string, h v1Hierarchy, fstype string) error {
				if ok, err := s.bindOwnHierarchy(d, h, opts.flags); ok || err != nil {
					if ok && err == nil {
						bound = append(bound, h.name)
					}
					return err
				}
				mounted = append(mounted, h.name)
				if own == nil {
					if own, err = ownCgroups(); err != nil {
						return err
					}
				}
				return s.mountOwnCgroup(d, fstype, h.opts, h.mnt, own[controllerKey(h.opts)], opts.flags)
			}
			for _, h := range v1 {
				if err := each(path.Join(dest, h.name), h, "cgroup"); err != nil {
					return errorf("cgroup %s: %w", h.opts, err)
				}
			}
			if v2.mnt != "" {
				if err := each(path.Join(dest, "unified"), v2, "cgroup2"); err != nil {
					return errorf("cgroup2: %w", err)
				}
			}
			return nil
		},
		ReadBack: func() (string, error) {
			return fmt.Sprintf("bound: %s; new mounts: %s", nameList(bound), nameList(mounted)), nil
		},
	})
	if opts.flags&unix.MS_RDONLY != 0 && !lateRO {
		steps = append(steps, s.remountStep(dest, opts.flags, 0, whyCgroupTmpfsRO))
	}
	return steps
}

// CgroupView is where this process's cgroups are, as seen before the
// container's cgroup namespace is made (which shows each as "/"):
// the host's v1 hierarchies and this process's group in each. Read it
// with ReadCgroupView, in the container's cgroups and before
// unshare(CLONE_NEWCGROUP).
type CgroupView struct {
	mounts []v1Hierarchy     // the v1 hierarchies, and cgroup2 (opts "")
	own    map[string]string // controllerKey ("" for cgroup2) -> group, from /proc/self/cgroup
	// unmade: the groups are not made yet (create --dry-run); RawSteps
	// takes their directories for granted.
	unmade bool
}

// Unmade returns cv for groups create will make: RawSteps plans the
// binds of their directories without looking for them (create --dry-run
// shows the steps create runs once they exist).
func (cv *CgroupView) Unmade() *CgroupView {
	c := *cv
	c.unmade = true
	return &c
}

// ReadCgroupView reads /proc/thread-self/mountinfo and /proc/self/cgroup.
func ReadCgroupView() (*CgroupView, error) {
	v1, v2, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	own, err := ownCgroups()
	if err != nil {
		return nil, err
	}
	if v2.mnt != "" {
		v1 = append(v1, v2)
	}
	return &CgroupView{mounts: v1, own: own}, nil
}

// CgroupViewOf is the CgroupView of a process that joins the groups dirs
// (one directory per hierarchy, as cgroups.Manager.Dirs lists them) and
// stays in this process's group in every other hierarchy: what
// ReadCgroupView would read in that process, computed before it exists
// (a raw init joins its cgroup as its first act and reads nothing).
func CgroupViewOf(dirs []string) (*CgroupView, error) {
	cv, err := ReadCgroupView()
	if err != nil {
		return nil, err
	}
	for _, h := range cv.mounts {
		for _, d := range dirs {
			if d != h.mnt && !strings.HasPrefix(d, h.mnt+"/") {
				continue
			}
			cv.own[controllerKey(h.opts)] = path.Join(h.root, strings.TrimPrefix(d, h.mnt))
		}
	}
	return cv, nil
}

// bindOwnHierarchy binds, from the host's mount of hierarchy h, the
// container's own group onto dest: the directory a new mount in the
// container's cgroup namespace shows as its root (and mountinfo shows
// the bind's root as "/" there too, relative to the reader's
// namespace), without a new mount: each cgroup v1 mount first waits for
// the hierarchy's removed groups to go offline
// (cgroup_lock_and_drain_offline), 0.5 ms and more right after a
// container's groups were removed. The bind is made private, as a new
// mount is. h is one of the CgroupView's hierarchies. false: no
// CgroupView, or h's mount does not show the group (a mount rooted
// elsewhere, the group not reachable): mount anew.
func (s *setup) bindOwnHierarchy(dest string, h v1Hierarchy, flags uintptr) (bool, error) {
	cv := s.cfg.CgroupView
	if cv == nil {
		return false, nil
	}
	dir, ok := cv.ownGroupDir(h)
	if !ok {
		return false, nil
	}
	src, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return false, nil // not reachable here: mount anew
	}
	defer src.Close()
	s.pin(dest, nil)
	if err := s.bindFrom(src, dest, unix.MS_BIND); err != nil {
		return true, errorf("bind own group %s: %w", dir, err)
	}
	top, err := s.mountAt(dest)
	if err != nil {
		return true, err
	}
	defer top.Close()
	if err := unix.Mount("", fdPath(top), "", unix.MS_PRIVATE, ""); err != nil {
		return true, errorf("make the bind of %s private: %w", dir, err)
	}
	if flags&^unix.MS_REC == 0 {
		return true, nil
	}
	return true, s.remount(top, flags&^unix.MS_REC, 0)
}

// ownGroupDir is the host directory of the view's own group in hierarchy
// h (one of cv.mounts): below h's mount point, by the group's path
// relative to the mount's root. ok is false when the mount does not show
// the group (a mount rooted elsewhere) or the view has no group there.
func (cv *CgroupView) ownGroupDir(h v1Hierarchy) (dir string, ok bool) {
	own, found := cv.own[controllerKey(h.opts)]
	root := path.Clean("/" + h.root)
	if !found || root != h.root || strings.Contains(own, "/..") || !strings.HasPrefix(path.Clean("/"+own)+"/", strings.TrimSuffix(root, "/")+"/") {
		return "", false
	}
	rel := strings.TrimPrefix(path.Clean("/"+own), root)
	return path.Join(h.mnt, rel), true
}

// mountOwnCgroup mounts a hierarchy (fstype with data) at dest showing
// the container's own group own. Where the kernel refuses the mount
// (EPERM in a user namespace without a cgroup namespace of its own;
// EBUSY), it binds the host's mount of it, hostMnt, instead, as runc
// does (mountCgroupV2's fallback; its v1 mounts are always binds).
func (s *setup) mountOwnCgroup(dest, fstype, data, hostMnt, own string, flags uintptr) error {
	err := s.mountHierarchy(dest, fstype, data, flags)
	if err == nil {
		return s.bindOwnCgroup(dest, own, flags)
	}
	if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.EBUSY) || hostMnt == "" {
		return err
	}
	if berr := s.bindHostCgroup(dest, hostMnt, own, flags); berr != nil {
		return errorf("mount: %w; bind of the host's %s instead: %w", err, hostMnt, berr)
	}
	return nil
}

// bindHostCgroup binds the group own of the host's hierarchy at hostMnt
// onto dest, then applies flags (ro, nosuid, ...) with a remount.
func (s *setup) bindHostCgroup(dest, hostMnt, own string, flags uintptr) error {
	src, err := os.OpenFile(path.Join(hostMnt, path.Clean("/"+own)), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := s.bindFrom(src, dest, unix.MS_BIND|unix.MS_REC); err != nil {
		return err
	}
	if flags&^unix.MS_REC == 0 {
		return nil
	}
	top, err := s.mountAt(dest)
	if err != nil {
		return err
	}
	defer top.Close()
	return s.remount(top, flags&^unix.MS_REC, 0)
}

// cgroup2Fallback binds the host's whole cgroup2 mount onto dest when a
// new cgroup2 mount was refused (mountErr): in a user namespace without
// a cgroup namespace of its own, the kernel refuses it with EPERM, and
// runc binds /sys/fs/cgroup instead (mountCgroupV2).
func (s *setup) cgroup2Fallback(dest string, flags uintptr, mountErr error) error {
	_, v2, err := cgroupLayout()
	if err != nil || v2 == "" {
		return mountErr
	}
	if err := s.bindHostCgroup(dest, v2, "/", flags); err != nil {
		return errorf("%w; bind of the host's %s instead: %w", mountErr, v2, err)
	}
	return nil
}

// mountHierarchy mounts a cgroup (v1, controllers data) or cgroup2
// hierarchy at dest, a directory made inside the tmpfs pinned at its
// parent (not found by path again), and pins the new mount.
func (s *setup) mountHierarchy(dest, fstype, data string, flags uintptr) error {
	s.pin(dest, nil)
	t, err := s.mkdirUnder(path.Dir(dest), path.Base(dest))
	if err != nil {
		return err
	}
	defer t.Close()
	if attrs, ok := mountAttrs(flags &^ unix.MS_REC); ok {
		top, err := newFs(fstype, "cgroup", strings.Split(data, ","), attrs)
		if err == nil {
			return s.attach(top, t, dest)
		}
		if !errors.Is(err, unix.ENOSYS) {
			return err
		}
	}
	return unix.Mount("cgroup", fdPath(t), fstype, flags, data)
}

// hostUnified reports a pure cgroup v2 host: /sys/fs/cgroup is cgroup2.
func hostUnified() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
}

// bindOwnCgroup binds the cgroup own (a path of /proc/self/cgroup) of the
// hierarchy just mounted at dest over dest itself: without a cgroup
// namespace a new v1 mount shows the whole hierarchy, other containers'
// groups included. In a cgroup namespace own is "/" and nothing is done.
func (s *setup) bindOwnCgroup(dest, own string, flags uintptr) error {
	rel := strings.Trim(path.Clean("/"+own), "/")
	if rel == "" {
		return nil
	}
	root, err := s.mountAt(dest) // the hierarchy mountHierarchy made
	if err != nil {
		return err
	}
	defer root.Close()
	fd, err := unix.Openat(int(root.Fd()), rel, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return errorf("open own group %s: %w", own, err)
	}
	group := os.NewFile(uintptr(fd), own)
	defer group.Close()
	top, err := bindTree(group, root, false)
	if err != nil {
		return errorf("bind own group %s: %w", own, err)
	}
	s.pin(dest, top)
	if flags&^unix.MS_REC == 0 {
		return nil
	}
	t, err := s.mountAt(dest)
	if err != nil {
		return err
	}
	defer t.Close()
	return s.remount(t, flags, 0)
}

// ownCgroups reads /proc/self/cgroup: the v1 cgroup of this process by
// its hierarchy's controllers (controllerKey), e.g. "memory" ->
// "/ctr-lite/ID".
func ownCgroups() (map[string]string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.SplitN(line, ":", 3)
		switch {
		case len(f) != 3:
		case f[0] == "0" && f[1] == "":
			own[""] = f[2] // the cgroup2 hierarchy
		case f[1] != "":
			own[controllerKey(f[1])] = f[2]
		}
	}
	return own, nil
}

// controllerKey names a v1 hierarchy by its sorted controllers, so that
// mountinfo's "cpuacct,cpu" and /proc/self/cgroup's "cpu,cpuacct" agree.
func controllerKey(ctrls string) string {
	l := strings.Split(ctrls, ",")
	sort.Strings(l)
	return strings.Join(l, ",")
}

func nameList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}
