// Package program starts a program (fork+execve through os.StartProcess)
// and waits for it: the part of os/exec that ctr-lite uses (hooks, ps,
// newuidmap/newgidmap, `cgroup run`), with os/exec's names, errors and
// stdio rules, without its context, GODEBUG and WaitDelay machinery
// (os/exec and what it alone pulls in are ~95 KB of a binary that must
// fit in 4 MiB). Linux only.
package program

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotFound is os/exec's: no executable of that name in $PATH.
var ErrNotFound = errors.New("executable file not found in $PATH")

// ErrDot is os/exec's: the name resolved to a path relative to the
// current directory (an empty or "." entry of $PATH), which is refused.
var ErrDot = errors.New("cannot run executable found relative to current directory")

// Error is a failed look-up of a program name, printed as os/exec's
// Error is: exec: "NAME": ERR.
type Error struct {
	Name string
	Err  error
}

func (e *Error) Error() string { return "exec: " + strconv.Quote(e.Name) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// ExitError is a program that ran and did not exit 0 ("exit status N",
// "signal: killed"). Stderr holds its standard error for Output.
type ExitError struct {
	*os.ProcessState
	Stderr []byte
}

func (e *ExitError) Error() string { return e.ProcessState.String() }

// LookPath finds file as os/exec.LookPath does: a name with a slash is
// used as is, else each $PATH entry ("" is ".") is tried for an
// executable regular file (faccessat(2) X_OK, the mode bits where that
// is refused); a match relative to the current directory is ErrDot.
func LookPath(file string) (string, error) {
	switch file {
	case "", ".", "..":
		return "", &Error{file, ErrNotFound}
	}
	if strings.Contains(file, "/") {
		if err := findExecutable(file); err != nil {
			return "", &Error{file, err}
		}
		return file, nil
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		path := filepath.Join(dir, file)
		if findExecutable(path) == nil {
			if !filepath.IsAbs(path) {
				return path, &Error{file, ErrDot}
			}
			return path, nil
		}
	}
	return "", &Error{file, ErrNotFound}
}

func findExecutable(file string) error {
	d, err := os.Stat(file)
	if err != nil {
		return err
	}
	m := d.Mode()
	if m.IsDir() {
		return syscall.EISDIR
	}
	err = unix.Faccessat(unix.AT_FDCWD, file, unix.X_OK, unix.AT_EACCESS)
	if err == nil || (err != syscall.ENOSYS && err != syscall.EPERM) {
		return err
	}
	if m&0o111 != 0 {
		return nil
	}
	return fs.ErrPermission
}

// Cmd is a program to run, as os/exec.Cmd: Env nil is this process's
// environment; a nil Stdin reads /dev/null and a nil Stdout or Stderr
// writes to it; an *os.File is given to the child as is, anything else
// through a pipe copied until the child and all holding the pipe close
// it. Timeout, when not zero, kills the program (SIGKILL) once it has
// run that long, and Wait then reports TimedOut.
type Cmd struct {
	Path        string
	Args        []string
	Env         []string
	Stdin       io.Reader
	Stdout      io.Writer
	Stderr      io.Writer
	SysProcAttr *syscall.SysProcAttr
	Timeout     time.Duration

	Process      *os.Process
	ProcessState *os.ProcessState
	Err          error // the look-up error of Command, returned by Start
	TimedOut     bool

	childFiles []*os.File // closed after Start
	parentEnds []*os.File // closed after Wait
	copies     []func() error
	copyErr    chan error
	timer      *time.Timer
}

// Command returns the Cmd to run name with args; a name without a slash
// is looked up in $PATH (LookPath), and a failure is kept for Start.
func Command(name string, arg ...string) *Cmd {
	c := &Cmd{Path: name, Args: append([]string{name}, arg...)}
	if !strings.Contains(name, "/") {
		lp, err := LookPath(name)
		if lp != "" {
			c.Path = lp
		}
		c.Err = err
	}
	return c
}

func (c *Cmd) closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

func (c *Cmd) stdin() (*os.File, error) {
	if c.Stdin == nil {
		f, err := os.Open(os.DevNull)
		c.childFiles = append(c.childFiles, f)
		return f, err
	}
	if f, ok := c.Stdin.(*os.File); ok {
		return f, nil
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.childFiles = append(c.childFiles, r)
	c.parentEnds = append(c.parentEnds, w)
	src := c.Stdin
	c.copies = append(c.copies, func() error {
		_, err := io.Copy(w, src)
		if errors.Is(err, syscall.EPIPE) {
			err = nil // the child need not read all of its input
		}
		if cerr := w.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
			err = cerr
		}
		return err
	})
	return r, nil
}

func (c *Cmd) writer(w io.Writer) (*os.File, error) {
	if w == nil {
		f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		c.childFiles = append(c.childFiles, f)
		return f, err
	}
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c.childFiles = append(c.childFiles, pw)
	c.parentEnds = append(c.parentEnds, pr)
	c.copies = append(c.copies, func() error {
		_, err := io.Copy(w, pr)
		pr.Close()
		return err
	})
	return pw, nil
}

// Start starts the program and does not wait for it.
func (c *Cmd) Start() error {
	if c.Process != nil {
		return errors.New("exec: already started")
	}
	if c.Path == "" && c.Err == nil {
		c.Err = errors.New("exec: no command")
	}
	if c.Err != nil {
		return c.Err
	}
	files := make([]*os.File, 3)
	var err error
	if files[0], err = c.stdin(); err == nil {
		if files[1], err = c.writer(c.Stdout); err == nil {
			if c.Stderr != nil && sameWriter(c.Stderr, c.Stdout) {
				files[2] = files[1]
			} else {
				files[2], err = c.writer(c.Stderr)
			}
		}
	}
	if err == nil {
		env := c.Env
		if env == nil {
			env = os.Environ()
		}
		c.Process, err = os.StartProcess(c.Path, c.Args, &os.ProcAttr{Env: env, Files: files, Sys: c.SysProcAttr})
	}
	c.closeAll(c.childFiles)
	c.childFiles = nil
	if err != nil {
		c.closeAll(c.parentEnds)
		c.parentEnds = nil
		return err
	}
	if c.Timeout > 0 {
		p := c.Process
		c.timer = time.AfterFunc(c.Timeout, func() { _ = p.Kill() })
	}
	c.copyErr = make(chan error, len(c.copies))
	for _, f := range c.copies {
		go func() { c.copyErr <- f() }()
	}
	return nil
}

// sameWriter is os/exec's interfaceEqual: a == b, false where the
// dynamic type cannot be compared.
func sameWriter(a, b io.Writer) (eq bool) {
	defer func() { _ = recover() }()
	return a == b
}

// Wait waits for the program to exit and its output to be copied. A
// program that did not exit 0 is an *ExitError.
func (c *Cmd) Wait() error {
	if c.Process == nil {
		return errors.New("exec: not started")
	}
	if c.ProcessState != nil {
		return errors.New("exec: Wait was already called")
	}
	state, err := c.Process.Wait()
	if c.timer != nil && !c.timer.Stop() {
		c.TimedOut = true
	}
	c.ProcessState = state
	var copyErr error
	for range c.copies {
		if e := <-c.copyErr; e != nil && copyErr == nil {
			copyErr = e
		}
	}
	c.closeAll(c.parentEnds)
	c.parentEnds = nil
	if err != nil {
		return err
	}
	if !state.Success() {
		return &ExitError{ProcessState: state}
	}
	return copyErr
}

// Run starts the program and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the program and returns its standard output; its standard
// error, unless Stderr is set, is kept in the *ExitError.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var out, errb bytes.Buffer
	c.Stdout = &out
	captured := c.Stderr == nil
	if captured {
		c.Stderr = &errb
	}
	err := c.Run()
	if ee, ok := err.(*ExitError); ok && captured {
		ee.Stderr = errb.Bytes()
	}
	return out.Bytes(), err
}

// CombinedOutput runs the program and returns its standard output and
// standard error, interleaved as written.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("exec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}
