package container

import (
	"fmt"
	"os"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// msgMountSource carries one bind mount source, its fd attached, from
// the runtime to the init, right after the initConfig.
const msgMountSource = "mount-source"

// bindSources lists the bind mounts whose source the runtime opens for
// the init (initConfig.MountSources), and the host paths to open. Only
// with a user namespace: its root has no capability over files of
// unmapped owners, so a source below a directory such as another user's
// 0700 home, reachable by the host's root, would be refused to the init
// (runc 1.1 opens them for it the same way: mountFds). Not when ctr-lite
// itself is not root: setns(2) into a mount namespace its user namespace
// owns needs CAP_SYS_ADMIN there, and such a user reaches no more than the
// init does (runc: not with RootlessEUID).
func bindSources(p *Plan) ([]int, []string) {
	if !hasUserNS(p.Namespaces) || os.Geteuid() != 0 {
		return nil, nil
	}
	var idx []int
	var paths []string
	for i, m := range p.Rootfs.Mounts {
		if isBind(m) {
			idx = append(idx, i)
			paths = append(paths, m.Source)
		}
	}
	return idx, paths
}

func hasUserNS(nss []specs.LinuxNamespace) bool {
	for _, n := range nss {
		if n.Type == specs.UserNamespace {
			return true
		}
	}
	return false
}

// isBind: the options make m a bind mount (a type "bind" without them is
// refused by validation).
func isBind(m specs.Mount) bool {
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// openMountSources opens each path O_PATH in the mount namespace of the
// init pid, as the host's root: the fds name the init's own copies of
// the host's mounts (a bind from a mount of another namespace is refused,
// EINVAL), and carry the lock flags the kernel put on that copy. The
// init has not touched its mount table yet: it waits for its config.
//
// setns(2) of a mount namespace needs a thread with its own fs_struct
// (unshare CLONE_FS): a goroutine locked to a thread that is never
// unlocked, so the Go runtime ends that thread with the goroutine.
func openMountSources(run *step.Runner, pid int, paths []string) ([]*os.File, error) {
	var files []*os.File
	err := run.RunOne(step.Step{
		Op:   "open",
		Args: fmt.Sprintf("%q, O_PATH, in /proc/%d/ns/mnt", paths, pid),
		Why:  "bind sources, opened by the host's root in the container's mount namespace: the user namespace's root may not reach them (runc's mountFds)",
		Do: func() error {
			ns, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", pid))
			if err != nil {
				return err
			}
			defer ns.Close()
			done := make(chan error, 1)
			go func() {
				runtime.LockOSThread() // never unlocked: the thread dies with us
				if err := unix.Unshare(unix.CLONE_FS); err != nil {
					done <- errorf("unshare CLONE_FS: %w", err)
					return
				}
				if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNS); err != nil {
					done <- errorf("setns %s: %w", ns.Name(), err)
					return
				}
				for _, p := range paths {
					f, err := os.OpenFile(p, unix.O_PATH|unix.O_CLOEXEC, 0)
					if err != nil {
						done <- errorf("bind source: %w", err)
						return
					}
					files = append(files, f)
				}
				done <- nil
			}()
			return <-done
		},
	})
	if err != nil {
		for _, f := range files {
			f.Close()
		}
		return nil, err
	}
	return files, nil
}

// sendMountSources sends the opened sources, one message each.
func sendMountSources(sock *os.File, files []*os.File) error {
	for _, f := range files {
		if err := sendMsgFd(sock, &syncMsg{Type: msgMountSource}, int(f.Fd())); err != nil {
			return err
		}
	}
	return nil
}

// recvMountSources receives the sources cfg.MountSources announces.
func recvMountSources(sock *os.File, cfg *initConfig) error {
	if len(cfg.MountSources) == 0 {
		return nil
	}
	cfg.mountFds = map[int]*os.File{}
	for _, i := range cfg.MountSources {
		var m syncMsg
		fd, err := recvMsgFd(sock, &m)
		if err != nil {
			return err
		}
		if m.Type != msgMountSource || fd < 0 {
			if fd >= 0 {
				unix.Close(fd)
			}
			return errorf("runtime sent %q, expected %q with an fd", m.Type, msgMountSource)
		}
		cfg.mountFds[i] = os.NewFile(uintptr(fd), "mount-source")
	}
	return nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
