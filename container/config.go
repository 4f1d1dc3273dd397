package container

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// LoadBundle reads BUNDLE/config.json and checks what every later step
// relies on (config.md): a supported ociVersion, a process with args, a
// root that is a directory and not reached through a symlink. The rootfs
// path comes back absolute, under BundleDir(bundle).
func LoadBundle(bundle string) (*specs.Spec, string, error) {
	abs, err := BundleDir(bundle)
	if err != nil {
		return nil, "", errorf("bundle %q: %w", bundle, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", errorf("bundle %s: config.json not found", abs)
		}
		return nil, "", errorf("bundle %s: %w", abs, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, "", errorf("bundle %s: config.json: %w", abs, jsonError(data, err))
	}
	rootfs, err := validateSpec(&s, abs)
	if err != nil {
		return nil, "", errorf("bundle %s: config.json: %w", abs, err)
	}
	return &s, rootfs, nil
}

// jsonError adds the line and column to a syntax error.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	line := 1 + strings.Count(string(data[:se.Offset]), "\n")
	return errorf("line %d: %w", line, err)
}

func validateSpec(s *specs.Spec, bundle string) (string, error) {
	if err := checkVersion(s.Version); err != nil {
		return "", err
	}
	if s.Process == nil {
		return "", errors.New("process is missing")
	}
	if len(s.Process.Args) == 0 && s.Process.CommandLine == "" {
		return "", errors.New("process.args is empty")
	}
	if s.Process.Cwd == "" || !filepath.IsAbs(s.Process.Cwd) {
		return "", errorf("process.cwd %q must be an absolute path", s.Process.Cwd)
	}
	if s.Root == nil || s.Root.Path == "" {
		return "", errors.New("root.path is missing")
	}
	if s.Linux == nil {
		return "", errors.New("linux is missing (only Linux containers are supported)")
	}
	rootfs := s.Root.Path
	if !filepath.IsAbs(rootfs) {
		rootfs = filepath.Join(bundle, rootfs)
	}
	fi, err := os.Stat(rootfs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", errorf("root.path %s does not exist", rootfs)
		}
		return "", errorf("root.path: %w", err)
	}
	if !fi.IsDir() {
		return "", errorf("root.path %s is not a directory", rootfs)
	}
	// runc 1.1 refuses a root reached through a symlink, the last part or
	// a parent (libcontainer/configs/validate: rootfs): pivot_root and the
	// mounts are done on the resolved path, which the bundle's owner could
	// change between the check and the use.
	real, err := filepath.EvalSymlinks(rootfs)
	if err != nil {
		return "", errorf("root.path: %w", err)
	}
	if real != filepath.Clean(rootfs) {
		return "", errorf("root.path %s: invalid rootfs: not an absolute path, or a symlink (it resolves to %s)", rootfs, real)
	}
	return rootfs, nil
}

// BundleDir is the absolute path of the bundle directory as runc 1.1
// names it (chdir to the bundle, then os.Getwd): $PWD when the bundle is
// the directory $PWD names, otherwise the path with symlinks resolved,
// as getcwd(2) gives it. root.path and the state's "bundle" are under it.
// A bundle that cannot be looked up comes back as the absolute path.
func BundleDir(bundle string) (string, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return abs, nil // LoadBundle names what is missing
	}
	if pwd := os.Getenv("PWD"); filepath.IsAbs(pwd) {
		if pfi, err := os.Stat(pwd); err == nil && os.SameFile(fi, pfi) {
			return pwd, nil
		}
	}
	return filepath.EvalSymlinks(abs)
}

// checkVersion accepts any 1.x ociVersion (config.md: a runtime must
// refuse a major version it does not know).
func checkVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion is missing")
	}
	major, _, _ := strings.Cut(v, ".")
	if major != "1" {
		return errorf("ociVersion %q: unsupported major version (this runtime implements %s)", v, specs.Version)
	}
	return nil
}
