package cgroups

// Where a cgroup path lands in each hierarchy, resolved as runc 1.1's
// cgroupfs driver resolves it (opencontainers/cgroups fs.initPaths and
// fs2.defaultDirPath), so that ctr-lite and runc name the same
// directories for the same linux.cgroupsPath.

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

const (
	v1Root      = "/sys/fs/cgroup"         // where the v1 hierarchies are usually mounted (a tmpfs)
	hybridMount = "/sys/fs/cgroup/unified" // the cgroup2 hierarchy of a hybrid host
)

// v1Hierarchies are the v1 hierarchies a group is made in, when the host
// has them mounted: the controllers, then the named ones and, on a
// hybrid host, "" for the cgroup2 hierarchy (runc's list and order).
var v1Hierarchies = []string{"cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb",
	"net_cls", "net_prio", "perf_event", "freezer", "rdma", "name=systemd", "misc"}

// errNotMounted: the host has no hierarchy for a controller.
type errNotMounted string

func (e errNotMounted) Error() string { return "mountpoint for " + string(e) + " not found" }

// innerPath cleans a cgroup path: an absolute one stays absolute, a
// relative one cannot climb out ("../a" is "a").
func innerPath(p string) string {
	if p == "" {
		return ""
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	rel, _ := filepath.Rel("/", filepath.Clean("/"+p))
	return rel
}

// v2Dir is the directory of cgroup path p on a v2 host: an absolute path
// is below /sys/fs/cgroup, a relative one below the parent of this
// process's own group (its "0::" line in /proc/self/cgroup).
func v2Dir(p string) (string, error) {
	inner := innerPath(p)
	if filepath.IsAbs(inner) {
		return filepath.Join(v2Root, inner), nil
	}
	own, err := ownCgroups()
	if err != nil {
		return "", err
	}
	cg, ok := own[""]
	if !ok {
		return "", errors.New("cgroup path not found")
	}
	return filepath.Join(v2Root, filepath.Dir(cg), inner), nil
}

// v1Dirs are the directories of cgroup path p, one per mounted
// hierarchy (v1Hierarchies); a hierarchy the host lacks is left out,
// except devices when device rules are given (needDevices): without it
// they could not be enforced.
func v1Dirs(p string, needDevices, hybrid bool) (map[string]string, error) {
	root, err := v1MountRoot()
	if err != nil {
		return nil, err
	}
	inner := innerPath(p)
	hs := v1Hierarchies
	if hybrid {
		hs = append(slices.Clip(hs), "")
	}
	dirs := map[string]string{}
	var own map[string]string // /proc/self/cgroup, read once for all
	if !filepath.IsAbs(inner) {
		if own, err = ownCgroups(); err != nil {
			return nil, err
		}
	}
	for _, h := range hs {
		d, err := v1Dir(root, inner, h, own)
		if err != nil {
			var nm errNotMounted
			if errors.As(err, &nm) && (h != "devices" || !needDevices) {
				continue
			}
			return nil, err
		}
		dirs[h] = d
	}
	return dirs, nil
}

// v1Dir is inner's directory in hierarchy h ("" is the hybrid cgroup2
// one): an absolute inner is below the hierarchy's mount point, a
// relative one below this process's own group in it (own: ownCgroups).
func v1Dir(root, inner, h string, own map[string]string) (string, error) {
	if filepath.IsAbs(inner) {
		if h == "" {
			return filepath.Join(root, filepath.Base(hybridMount), inner), nil
		}
		mnt := defaultMount(root, h)
		if mnt == "" {
			m, err := findMount(root, h)
			if err != nil {
				return "", err
			}
			mnt = m.Mountpoint
		}
		// Controllers mounted together ("cpu,cpuacct") share one.
		return filepath.Join(root, filepath.Base(mnt), inner), nil
	}
	cg, ok := own[h]
	if !ok {
		if cg, ok = own["name="+h]; !ok {
			return "", errNotMounted(h)
		}
	}
	if h == "" {
		return filepath.Join(hybridMount, inner), nil // runc joins the hierarchy's root here
	}
	m, err := findMount("", h)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(m.Root, cg)
	if err != nil {
		return "", err
	}
	return filepath.Join(m.Mountpoint, rel, inner), nil
}

// defaultMount is /sys/fs/cgroup/<h> if that is where h is mounted (a
// directory, a mount point, a cgroup filesystem): no mountinfo parsing
// in the usual case.
func defaultMount(root, h string) string {
	if !strings.HasPrefix(v1Root, root) {
		return ""
	}
	p := filepath.Join(v1Root, filepath.Clean("/"+strings.TrimPrefix(h, "name=")))
	var st, pst unix.Stat_t
	if unix.Lstat(p, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || unix.Lstat(filepath.Dir(p), &pst) != nil || st.Dev == pst.Dev {
		return ""
	}
	var fs unix.Statfs_t
	if unix.Statfs(p, &fs) != nil || fs.Type != unix.CGROUP_SUPER_MAGIC {
		return ""
	}
	return p
}

var (
	v1MountsOnce sync.Once
	v1Mounts     []*mountinfo.Info
	v1MountsErr  error
)

// cgroupMounts are the v1 (fstype "cgroup") mounts, read once.
func cgroupMounts() ([]*mountinfo.Info, error) {
	v1MountsOnce.Do(func() {
		v1Mounts, v1MountsErr = mountinfo.GetMounts(mountinfo.FSTypeFilter("cgroup"))
	})
	return v1Mounts, v1MountsErr
}

// findMount is the first v1 mount below prefix whose options name h.
func findMount(prefix, h string) (*mountinfo.Info, error) {
	mounts, err := cgroupMounts()
	if err != nil {
		return nil, err
	}
	for _, m := range mounts {
		if strings.HasPrefix(m.Mountpoint, prefix) && slices.Contains(strings.Split(m.VFSOptions, ","), h) {
			return m, nil
		}
	}
	return nil, errNotMounted(h)
}

var (
	rootOnce sync.Once
	rootDir  string
	rootErr  error
)

// v1MountRoot is the directory the v1 hierarchies are mounted in:
// /sys/fs/cgroup when it is a tmpfs mount holding cgroup mounts, else
// the parent of the first cgroup mount.
func v1MountRoot() (string, error) {
	rootOnce.Do(func() {
		if isDefaultV1Root() {
			rootDir = v1Root
			return
		}
		mounts, err := cgroupMounts()
		if err != nil {
			rootErr = err
			return
		}
		if len(mounts) == 0 {
			rootErr = errors.New("no cgroup mount found in mountinfo")
			return
		}
		rootDir = filepath.Dir(mounts[0].Mountpoint)
		if _, err := os.Stat(rootDir); err != nil {
			rootErr = err
		}
	})
	return rootDir, rootErr
}

func isDefaultV1Root() bool {
	var st, pst unix.Stat_t
	if unix.Lstat(v1Root, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR ||
		unix.Lstat(filepath.Dir(v1Root), &pst) != nil || st.Dev == pst.Dev {
		return false
	}
	var fs unix.Statfs_t
	if unix.Statfs(v1Root, &fs) != nil || fs.Type != unix.TMPFS_MAGIC {
		return false
	}
	d, err := os.Open(v1Root)
	if err != nil {
		return false
	}
	names, err := d.Readdirnames(1)
	d.Close()
	if err != nil || len(names) == 0 {
		return false
	}
	return unix.Statfs(filepath.Join(v1Root, names[0]), &fs) == nil && fs.Type == unix.CGROUP_SUPER_MAGIC
}

// ownCgroups reads /proc/self/cgroup: each controller (and "name=..."
// hierarchy, and "" for cgroup2) to this process's group in it.
func ownCgroups() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	own := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		// "4:memory:/a/b", "1:name=systemd:/", "0::/a"
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) < 3 {
			return nil, errorf("/proc/self/cgroup: line %q has fewer than two colons", s.Text())
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, s.Err()
}

var (
	hugeOnce  sync.Once
	hugeSizes []string
)

// HugePageSizes lists the kernel's huge page sizes as cgroup file names
// spell them ("2MB", "1GB"), from /sys/kernel/mm/hugepages
// ("hugepages-2048kB"); none when the kernel has no hugetlb.
func HugePageSizes() []string {
	hugeOnce.Do(func() {
		d, err := os.Open("/sys/kernel/mm/hugepages")
		if err != nil {
			return
		}
		names, _ := d.Readdirnames(0)
		d.Close()
		for _, n := range names {
			v, ok := strings.CutPrefix(n, "hugepages-")
			if !ok {
				continue
			}
			kb, ok := strings.CutSuffix(v, "kB")
			size, err := strconv.Atoi(kb)
			if !ok || err != nil {
				continue
			}
			switch {
			case size >= 1<<20:
				hugeSizes = append(hugeSizes, strconv.Itoa(size>>20)+"GB")
			case size >= 1<<10:
				hugeSizes = append(hugeSizes, strconv.Itoa(size>>10)+"MB")
			default:
				hugeSizes = append(hugeSizes, kb+"KB")
			}
		}
	})
	return hugeSizes
}

// removeDir removes a cgroup directory and the groups below it (rmdir(2)
// deepest first; a group the kernel still holds busy for a moment after
// its last task left is retried, ~1 s in all). A missing one is fine.
func removeDir(p string) error {
	if rmdirRetry(p, false) == nil {
		return nil
	}
	subs, err := subdirs(p)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	for _, name := range subs {
		if err := removeDir(filepath.Join(p, name)); err != nil {
			return err
		}
	}
	return rmdirRetry(p, true)
}

// subdirs lists the names of the directories in dir, sorted, as
// os.ReadDir and filepath.WalkDir would visit them. Not os.ReadDir: its
// sort of DirEntry values is a generic instantiation of its own in the
// binary (8 KiB); names sort as strings.
func subdirs(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names, err
}

func rmdirRetry(p string, retry bool) error {
	delay := time.Millisecond
	for tries := 10; ; {
		err := unix.Rmdir(p)
		switch {
		case err == nil, err == unix.ENOENT:
			return nil
		case err == unix.EINTR:
			continue
		case err == unix.EBUSY && retry && tries > 0:
			time.Sleep(delay)
			delay *= 2
			tries--
			continue
		}
		return &os.PathError{Op: "rmdir", Path: p, Err: err}
	}
}

// procsIn lists the pids in dir's cgroup.procs (cgroup.threads in a
// threaded v2 group, where cgroup.procs is not supported).
func procsIn(dir string) ([]int, error) {
	data, err := readFile(dir, "cgroup.procs")
	if errors.Is(err, unix.ENOTSUP) {
		data, err = readFile(dir, "cgroup.threads")
	}
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(data) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, parseErr(dir, "cgroup.procs", err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// allPids lists the pids in dir and every group below it, each group
// before the groups below it, in name order (as filepath.WalkDir visits
// them); groups removed during the walk are skipped.
func allPids(dir string) ([]int, error) {
	if fi, err := os.Lstat(dir); err != nil || !fi.IsDir() {
		return nil, err
	}
	var pids []int
	var walk func(p string) error
	walk = func(p string) error {
		gone := func(err error) bool {
			return p != dir && (errors.Is(err, os.ErrNotExist) || errors.Is(err, unix.ENODEV))
		}
		ps, err := procsIn(p)
		if err != nil {
			if gone(err) {
				return nil
			}
			return err
		}
		pids = append(pids, ps...)
		subs, err := subdirs(p)
		if err != nil && !gone(err) {
			return err
		}
		for _, name := range subs {
			if err := walk(filepath.Join(p, name)); err != nil {
				return err
			}
		}
		return nil
	}
	return pids, walk(dir)
}

// joinGroup writes pid to dir's cgroup.procs. A write may fail with
// EINVAL while the task is still being set up (a fresh clone); it is
// retried a few times.
func joinGroup(dir string, pid int) error {
	f, err := openFile(dir, "cgroup.procs", os.O_WRONLY)
	if err != nil {
		return err
	}
	defer f.Close()
	for try := 0; ; try++ {
		_, err = f.WriteString(strconv.Itoa(pid))
		if err == nil {
			return nil
		}
		if !errors.Is(err, unix.EINVAL) || try == 4 {
			return errorf("write %d to %s: %w", pid, f.Name(), err)
		}
		time.Sleep(30 * time.Millisecond)
	}
}
