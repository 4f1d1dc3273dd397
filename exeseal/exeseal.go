package exeseal

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ctr-lite/ctr-lite/step"
)

// SealedSelf returns a handle on this binary that a child can execveat
// and no one can write through: an O_PATH fd of it in a detached
// read-only overlay, or else a sealed memfd copy. stateDir (the runtime's
// --root) is the preferred lowest overlay layer: any directory will do,
// its files stay below the binary's. The steps run through run (they
// explain); the caller closes the file.
func SealedSelf(stateDir string, run *step.Runner) (f *os.File, err error) {
	bin, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return nil, errorf("readlink /proc/self/exe: %w", err)
	}
	scratch := scratchLayer(filepath.Dir(bin), stateDir, "/run", "/tmp", "/dev")
	f, overlayErr := overlaySelf(bin, scratch, run)
	if overlayErr == nil {
		return f, nil
	}
	run.Note("no overlay (%v): a sealed in-memory copy of ctr-lite for the init to run instead", overlayErr)
	f, err = memfdSelf(run)
	if err != nil {
		return nil, errorf("sealed copy of ctr-lite: overlay: %v; memfd: %w", overlayErr, err)
	}
	return f, nil
}

// scratchLayer is the first candidate directory that neither contains
// nor is inside binDir: overlayfs refuses overlapping layers (ELOOP,
// "overlapping lowerdir path").
func scratchLayer(binDir string, candidates ...string) string {
	for _, c := range candidates {
		if real, err := filepath.EvalSymlinks(c); err == nil && !overlaps(real, binDir) {
			return real
		}
	}
	return ""
}

func overlaps(a, b string) bool {
	within := func(x, dir string) bool {
		return x == dir || dir == "/" || strings.HasPrefix(x, dir+"/")
	}
	return within(a, b) || within(b, a)
}

// escapeLowerdir escapes what overlayfs's lowerdir option treats
// specially: "\" and the ":" that separates layers. The backslashes
// first, so the ones added for ":" stay single (a strings.Replacer
// would link 9 KiB of its own for this).
func escapeLowerdir(p string) string {
	return strings.ReplaceAll(strings.ReplaceAll(p, `\`, `\\`), `:`, `\:`)
}

// overlaySelf opens bin through a detached read-only overlay of its
// directory. Two lowerdirs and no upperdir is overlayfs's read-only mode:
// with one lowerdir it refuses to mount. The binary's directory is the
// top layer, so a file of the same name in scratch cannot shadow it.
func overlaySelf(bin, scratch string, run *step.Runner) (*os.File, error) {
	if scratch == "" {
		return nil, errors.New("no directory apart from the binary's for the second layer")
	}
	ctx, mnt := -1, -1
	defer func() {
		for _, fd := range []int{ctx, mnt} {
			if fd >= 0 {
				unix.Close(fd)
			}
		}
	}()
	lower := escapeLowerdir(filepath.Dir(bin)) + ":" + escapeLowerdir(scratch)
	var f *os.File
	err := run.Run(
		step.Step{
			Op: "fsopen", Args: `"overlay", FSOPEN_CLOEXEC`,
			Why: "an overlayfs of ctr-lite's directory, for the init to run ctr-lite from (CVE-2019-5736)",
			Do: func() (err error) {
				ctx, err = unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
				return err
			},
		},
		step.Step{
			Op: "fsconfig", Args: fmt.Sprintf("lowerdir=%s, xino=off; FSCONFIG_CMD_CREATE", lower),
			Why: "two lower layers and no upper one: read-only for good",
			Do: func() error {
				if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
					return errorf("lowerdir=%s: %w", lower, err)
				}
				// xino would only log noise when the layers are on
				// different file systems; failing to turn it off is
				// harmless.
				_ = unix.FsconfigSetString(ctx, "xino", "off")
				return unix.FsconfigCreate(ctx)
			},
		},
		step.Step{
			Op: "fsmount", Args: "FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY|MOUNT_ATTR_NODEV|MOUNT_ATTR_NOSUID",
			Why: "detached: in no mount table, so no one can remount it read-write",
			Do: func() (err error) {
				mnt, err = unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
				return err
			},
		},
		step.Step{
			Op: "openat", Args: fmt.Sprintf("<overlay>, %q, O_PATH|O_NOFOLLOW", filepath.Base(bin)),
			Why: "what the init executes: /proc/PID/exe cannot reach the host binary for writing",
			Do: func() error {
				fd, err := unix.Openat(mnt, filepath.Base(bin), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				if err != nil {
					return err
				}
				f = os.NewFile(uintptr(fd), "overlay:"+bin)
				return nil
			},
		},
	)
	return f, err
}

// memfdSelf copies this binary into a memfd and seals it: after
// F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK no write(2), truncate or
// writable shared mmap succeeds, and F_SEAL_SEAL keeps anyone from
// removing the seals.
func memfdSelf(run *step.Runner) (*os.File, error) {
	var mem *os.File
	err := run.Run(
		step.Step{
			Op: "memfd_create", Args: `"ctr-lite", MFD_CLOEXEC|MFD_ALLOW_SEALING|MFD_EXEC`,
			Why: "an in-memory file for a copy of ctr-lite that can be sealed",
			Do: func() error {
				fd, err := unix.MemfdCreate("ctr-lite", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
				if errors.Is(err, unix.EINVAL) {
					// MFD_EXEC is Linux 6.3; before it every memfd is executable.
					fd, err = unix.MemfdCreate("ctr-lite", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
				}
				if err != nil {
					return err
				}
				mem = os.NewFile(uintptr(fd), "memfd:ctr-lite")
				return nil
			},
		},
		step.Step{
			Op: "copy_file_range", Args: "/proc/self/exe, <memfd>",
			Why: "the copy (Go falls back to sendfile or read and write where the kernel refuses)",
			Do: func() error {
				self, err := os.Open("/proc/self/exe")
				if err != nil {
					return err
				}
				defer self.Close()
				_, err = io.Copy(mem, self)
				return err
			},
		},
		step.Step{
			Op: "fcntl", Args: "<memfd>, F_ADD_SEALS, F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE",
			Why: "no write, truncate or growth from now on, and the seals stay (CVE-2019-5736)",
			Do: func() error {
				_, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, unix.F_SEAL_SEAL|unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_WRITE)
				return err
			},
		},
	)
	if err != nil {
		if mem != nil {
			mem.Close()
		}
		return nil, err
	}
	return mem, nil
}
