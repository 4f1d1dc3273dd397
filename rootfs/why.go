package rootfs

// The reasons --explain gives for the steps, shared by the Go steps
// (Steps) and the raw program's ops (RawSteps), which make the same
// kernel changes.
const (
	whyRootPrivate   = "the rootfs's own bind must not propagate anywhere, and pivot_root(2) refuses a shared parent"
	whyRootBind      = "the new root must be a mount point (for pivot_root(2) or MS_MOVE)"
	whyRootOpen      = "every later path is resolved inside this fd and never leaves it (RESOLVE_IN_ROOT)"
	whyBind          = "bind mount; the target is opened in-root and mounted on by fd"
	whyBindFlags     = "a bind mount takes no ro/nosuid/... flags of its own: they are set on the new mount after"
	whyPropagation   = "propagation type of this mount (mount_namespaces(7))"
	whyRecAttrs      = "recursive mount options: this mount and every mount below it"
	whyPin           = "pin this mount: it is made read-only at the end, after what goes below it (runc's finalizeRootfs)"
	whyDevNull       = "what masks a file: the host's own /dev/null, checked to be char 1:3 (CVE-2025-31133)"
	whyMask          = "masked path: reads give nothing"
	whyReadonlyBind  = "readonly path: a mount of its own, so it can be made read-only alone"
	whyReadonlyRO    = "readonly path: read-only, nosuid/nodev/noexec kept as they were"
	whyDevice        = "a device the container may use (bound from the host where mknod is not allowed)"
	whyDevLinks      = "the links programs expect in /dev"
	whyCwd           = "process.cwd is created when the rootfs lacks it, as runc does"
	whyProcWrite     = ", before readonlyPaths make /proc/sys read-only (runc's order)"
	whyPropagateRoot = "rootfsPropagation, set on the new root once it is /"
	whyLateRO        = "the mount is read-only as asked, now that what goes below it is made"
	whyLateRec       = "recursive mount options, now that what goes below it is made"
	whyRootReadonly  = "root.readonly: the rootfs mount read-only (its submounts keep their own flags)"
	whyCgroupTmpfs   = "cgroup v1: a tmpfs holds one mount per hierarchy, as on the host"
	whyCgroupView    = "each v1 hierarchy of mountinfo: our own group bound from the host's mount, what a new mount in our cgroup namespace shows, without the wait of a new v1 mount for removed groups to go offline"
	whyCgroupTmpfsRO = "the tmpfs becomes read-only once filled"
	whyStartInRoot   = "start in the new root"

	whyPivotOldRoot  = "a handle on the old root, to unmount it after the pivot"
	whyPivotChdir    = "pivot_root(\".\", \".\") works on the cwd"
	whyPivot         = "the rootfs becomes /; the old root now sits on top of it"
	whyPivotToOld    = "stand on the old root to unmount it"
	whyPivotOldSlave = "the old root: our unmount must not propagate anywhere"
	whyPivotUmount   = "drop the old root: the host's mounts are gone from this namespace"
	whyChrootChdir   = "work from inside the rootfs"
	whyChrootMove    = "move the rootfs mount over the old /"
	whyChroot        = "make it this thread's root directory"
)

// whyFs is why a new filesystem instance is mounted.
func whyFs(fstype string) string {
	return "a new " + fstype + " instance; the target directory is made and pinned in-root"
}
