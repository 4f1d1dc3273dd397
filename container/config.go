package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// LoadBundle reads BUNDLE/config.json and checks what every later step
// relies on (config.md): a supported ociVersion, a process with args, a
// root that is a directory. The rootfs path comes back absolute.
func LoadBundle(bundle string) (*specs.Spec, string, error) {
	abs, err := filepath.Abs(bundle)
	if err != nil {
		return nil, "", fmt.Errorf("bundle %q: %w", bundle, err)
	}
	data, err := os.ReadFile(filepath.Join(abs, "config.json"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("bundle %s: config.json not found", abs)
		}
		return nil, "", fmt.Errorf("bundle %s: %w", abs, err)
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, "", fmt.Errorf("bundle %s: config.json: %w", abs, jsonError(data, err))
	}
	rootfs, err := validateSpec(&s, abs)
	if err != nil {
		return nil, "", fmt.Errorf("bundle %s: config.json: %w", abs, err)
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
	return fmt.Errorf("line %d: %w", line, err)
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
		return "", fmt.Errorf("process.cwd %q must be an absolute path", s.Process.Cwd)
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
			return "", fmt.Errorf("root.path %s does not exist", rootfs)
		}
		return "", fmt.Errorf("root.path: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("root.path %s is not a directory", rootfs)
	}
	return rootfs, nil
}

// checkVersion accepts any 1.x ociVersion (config.md: a runtime must
// refuse a major version it does not know).
func checkVersion(v string) error {
	if v == "" {
		return errors.New("ociVersion is missing")
	}
	major, _, _ := strings.Cut(v, ".")
	if major != "1" {
		return fmt.Errorf("ociVersion %q: unsupported major version (this runtime implements %s)", v, specs.Version)
	}
	return nil
}
