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
		return nil, fmt.Errorf("readlink /proc/self/exe: %w", err)
	}
	scratch := scratchLayer(filepath.Dir(bin), stateDir, "/run", "/tmp", "/dev")
	err = run.RunOne(step.Step{
		Op:   "fsopen+fsconfig+fsmount",
		Args: fmt.Sprintf(`"overlay", lowerdir=%s:%s, MOUNT_ATTR_RDONLY; openat %q, O_PATH`, filepath.Dir(bin), scratch, filepath.Base(bin)),
		Why:  "the init runs ctr-lite from a detached read-only overlay: /proc/PID/exe cannot reach the host binary for writing (CVE-2019-5736)",
		Do: func() error {
			f, err = overlaySelf(bin, scratch)
			return err
		},
	})
	if err == nil {
		return f, nil
	}
	overlayErr := err
	err = run.RunOne(step.Step{
		Op:   "memfd_create+copy+fcntl",
		Args: `"ctr-lite", MFD_CLOEXEC|MFD_ALLOW_SEALING; F_ADD_SEALS F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE`,
		Why:  fmt.Sprintf("no overlay (%v): a sealed in-memory copy of ctr-lite for the init to run (CVE-2019-5736)", overlayErr),
		Do: func() error {
			f, err = memfdSelf()
			return err
		},
	})
	if err != nil {
		return nil, fmt.Errorf("sealed copy of ctr-lite: overlay: %v; memfd: %w", overlayErr, err)
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
// specially: "\" and the ":" that separates layers.
func escapeLowerdir(p string) string {
	return strings.NewReplacer(`\`, `\\`, `:`, `\:`).Replace(p)
}

// overlaySelf opens bin through a detached read-only overlay of its
// directory. Two lowerdirs and no upperdir is overlayfs's read-only mode:
// with one lowerdir it refuses to mount. The binary's directory is the
// top layer, so a file of the same name in scratch cannot shadow it.
func overlaySelf(bin, scratch string) (*os.File, error) {
	if scratch == "" {
		return nil, errors.New("no directory apart from the binary's for the second layer")
	}
	ctx, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("fsopen overlay: %w", err)
	}
	defer unix.Close(ctx)
	lower := escapeLowerdir(filepath.Dir(bin)) + ":" + escapeLowerdir(scratch)
	if err := unix.FsconfigSetString(ctx, "lowerdir", lower); err != nil {
		return nil, fmt.Errorf("fsconfig lowerdir=%s: %w", lower, err)
	}
	// xino would only log noise when the layers are on different
	// file systems; failing to turn it off is harmless.
	_ = unix.FsconfigSetString(ctx, "xino", "off")
	if err := unix.FsconfigCreate(ctx); err != nil {
		return nil, fmt.Errorf("fsconfig FSCONFIG_CMD_CREATE overlay: %w", err)
	}
	mnt, err := unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOSUID)
	if err != nil {
		return nil, fmt.Errorf("fsmount overlay: %w", err)
	}
	defer unix.Close(mnt)
	fd, err := unix.Openat(mnt, filepath.Base(bin), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s in the overlay: %w", filepath.Base(bin), err)
	}
	return os.NewFile(uintptr(fd), "overlay:"+bin), nil
}

// memfdSelf copies this binary into a memfd and seals it: after
// F_SEAL_WRITE|F_SEAL_GROW|F_SEAL_SHRINK no write(2), truncate or
// writable shared mmap succeeds, and F_SEAL_SEAL keeps anyone from
// removing the seals.
func memfdSelf() (*os.File, error) {
	fd, err := unix.MemfdCreate("ctr-lite", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_EXEC)
	if errors.Is(err, unix.EINVAL) {
		// MFD_EXEC is Linux 6.3; before it every memfd is executable.
		fd, err = unix.MemfdCreate("ctr-lite", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "memfd:ctr-lite")
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("open /proc/self/exe: %w", err)
	}
	defer self.Close()
	if _, err := io.Copy(mem, self); err != nil { // copy_file_range/sendfile
		mem.Close()
		return nil, fmt.Errorf("copy ctr-lite into a memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("fcntl F_ADD_SEALS: %w", err)
	}
	return mem, nil
}
