package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/ctr-lite/ctr-lite/seccomp"
)

// compileSeccomp compiles linux.seccomp for this machine, once, in the
// runtime: a bad profile fails before anything changes, and the init
// loads the program it is sent rather than compiling it again (about
// 1 ms for Docker's profile). The per-instruction comments are only for
// `seccomp dump`: dropping them keeps the init's config message small.
func compileSeccomp(s *specs.LinuxSeccomp) (*seccomp.Filter, error) {
	if s == nil {
		return nil, nil
	}
	native, err := seccomp.NativeArch()
	if err != nil {
		return nil, err
	}
	f, err := seccomp.Compile(s, native)
	if err != nil {
		return nil, errorf("linux.seccomp: %w", err)
	}
	f.Comments, f.Absent = nil, nil
	return f, nil
}
