package process

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"github.com/ctr-lite/ctr-lite/program"
	"github.com/ctr-lite/ctr-lite/step"
)

// ExecStep is the last step of every setup: execve(2) of the user's
// program, which replaces this one. path is resolved by the caller (see
// LookPath) because after pivot_root the lookup must use the new root.
//
// Preconditions: the calling goroutine is locked to its OS thread
// (runtime.LockOSThread), so that the per-thread state set before it
// (capabilities, no_new_privs, the seccomp filter, a private fs_struct)
// is the state the new program starts with: execve keeps the calling
// thread's credentials and discards every other thread.
func ExecStep(path string, args, env []string) step.Step {
	return step.Step{
		Op:   "execve",
		Args: fmt.Sprintf("%q, %q", path, args),
		Why:  "replace this process with the program; credentials, namespaces and filters stay",
		Do: func() error {
			return syscall.Exec(path, args, env)
		},
	}
}

// LookPath finds name in the PATH of env (or a default PATH), as the
// program will see it from the current root directory. A name with a
// slash must be a file with an execute bit (not a directory); in PATH,
// only such regular files are found. Whether this process's user may
// execute it is up to execve(2).
func LookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		fi, err := os.Stat(name)
		switch {
		case err != nil:
			return "", executableErr(name, err)
		case fi.IsDir():
			return "", executableErr(name, syscall.EISDIR)
		case fi.Mode()&0o111 == 0:
			// execve(2) would fail with EACCES; say so before start,
			// as runc's exec.LookPath does.
			return "", noExecuteErr(name)
		}
		return name, nil
	}
	for _, p := range pathCandidates(name, env) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", notInPathErr(name)
}

// pathCandidates are the files LookPath tries for a name without a
// slash, in order: name in each directory of env's PATH (the last PATH=
// wins), "." for an empty one.
func pathCandidates(name string, env []string) []string {
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var out []string
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		out = append(out, dir+"/"+name)
	}
	return out
}

func executableErr(name string, err error) error {
	return errorf("executable %q: %w", name, err)
}

func noExecuteErr(name string) error {
	return errorf("executable %q: no execute permission: %w", name, os.ErrPermission)
}

func notInPathErr(name string) error {
	return errorf("executable %q not found in $PATH: %w", name, program.ErrNotFound)
}
