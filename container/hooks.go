package container

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/ctr-lite/ctr-lite/program"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// runHooks runs each hook in order (config.md "POSIX-platform Hooks"):
// the container's state JSON on stdin, hook.Path with hook.Args and
// hook.Env, killed after hook.Timeout seconds. The first failure stops
// the list and is returned, naming the hook.
func runHooks(kind string, hooks []specs.Hook, st *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := json.Marshal(st)
	if err != nil {
		return errorf("%s hooks: encode state: %w", kind, err)
	}
	for i, h := range hooks {
		if err := runHook(h, data); err != nil {
			return errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// runHooksWarn runs every hook even when one fails, warning about each
// failure: poststart and poststop hooks (runtime.md, "Lifecycle" steps 9
// and 12: the runtime logs a warning and goes on as if it succeeded).
func (r Root) runHooksWarn(kind string, hooks []specs.Hook, st *specs.State) {
	if len(hooks) == 0 {
		return
	}
	data, err := json.Marshal(st)
	if err != nil {
		r.warnf("%s hooks: encode state: %v", kind, err)
		return
	}
	for i, h := range hooks {
		if err := runHook(h, data); err != nil {
			r.warnf("%s hook #%d (%s): %v", kind, i, h.Path, err)
		}
	}
}

func runHook(h specs.Hook, state []byte) error {
	cmd := program.Command(h.Path)
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return errorf("timeout %d must be positive", *h.Timeout)
		}
		cmd.Timeout = time.Duration(*h.Timeout) * time.Second
	}
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	// A hook dies with the runtime that runs it (a killed create leaves
	// no hook running on its behalf).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if cmd.TimedOut {
		return errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		var ee *program.ExitError
		if errors.As(err, &ee) && out.Len() > 0 {
			return errorf("%w: %s", err, bytes.TrimSpace(out.Bytes()))
		}
		return err
	}
	return nil
}

// ociState is the state the spec defines (runtime.md "State"), given to
// hooks on stdin and printed by `ctr-lite state`.
func ociState(s *State, status specs.ContainerState) *specs.State {
	st := &specs.State{
		Version: specs.Version,
		ID:      s.ID,
		Status:  status,
		Bundle:  s.Bundle,
	}
	if status != specs.StateStopped {
		st.Pid = s.Pid
	}
	if s.Config != nil {
		st.Annotations = s.Config.Annotations
	}
	return st
}

// hookArgs is what --explain shows of a step running hooks: each one a
// fork and execve(2) of its path, the state on its stdin (config.md
// "POSIX-platform Hooks").
func hookArgs(kind string, hooks []specs.Hook) string {
	paths := make([]string, len(hooks))
	for i, h := range hooks {
		paths[i] = fmt.Sprintf("%q", h.Path)
	}
	return kind + " hooks " + strings.Join(paths, ", ") + "; the state on stdin"
}
