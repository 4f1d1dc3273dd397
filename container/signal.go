package container

import (
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Real-time signals as glibc numbers them (signal(7)): 34..64.
const (
	sigRTMin = 34
	sigRTMax = 64
)

// ParseSignal reads a signal the way runc's kill does: a number ("9"), a
// name with or without "SIG" in any case ("KILL", "sigterm"), or a
// real-time signal ("RTMIN+3", "SIGRTMAX-1"). 0 is valid: kill(2) with
// signal 0 only checks that the process exists (the container is alive).
func ParseSignal(s string) (unix.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > sigRTMax {
			return 0, errorf("invalid signal number %d", n)
		}
		return unix.Signal(n), nil
	}
	name := strings.TrimPrefix(strings.ToUpper(s), "SIG")
	if sig, ok := parseRT(name); ok {
		return sig, nil
	}
	if sig := unix.SignalNum("SIG" + name); sig != 0 {
		return sig, nil
	}
	return 0, errorf("unknown signal %q", s)
}

func parseRT(name string) (unix.Signal, bool) {
	base, sign, off := 0, 1, name
	switch {
	case strings.HasPrefix(name, "RTMIN"):
		base, off = sigRTMin, name[len("RTMIN"):]
	case strings.HasPrefix(name, "RTMAX"):
		base, off = sigRTMax, name[len("RTMAX"):]
	default:
		return 0, false
	}
	if off == "" {
		return unix.Signal(base), true
	}
	switch off[0] {
	case '+':
	case '-':
		sign = -1
	default:
		return 0, false
	}
	n, err := strconv.Atoi(off[1:])
	if err != nil {
		return 0, false
	}
	sig := base + sign*n
	if sig < sigRTMin || sig > sigRTMax {
		return 0, false
	}
	return unix.Signal(sig), true
}

// ForwardedSignals are what a runtime with a foreground process (run,
// exec, `ctr-lite ns`, `ctr-lite cgroup run`) passes on to it: every
// signal a user or a supervisor sends, and SIGWINCH for the terminal.
// Listing them, rather than signal.Notify with none (all 64), saves 1-3
// ms of sigaction calls on every run. Not SIGCHLD (ours: the process is
// our child), SIGURG (the Go runtime's preemption), SIGPIPE.
var ForwardedSignals = []os.Signal{
	unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1, unix.SIGUSR2,
	unix.SIGALRM, unix.SIGCONT, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU, unix.SIGPWR,
	unix.SIGVTALRM, unix.SIGPROF, unix.SIGXCPU, unix.SIGXFSZ, unix.SIGWINCH,
}

// caught is ForwardedSignals caught for forwarding (catchSignals).
type caught struct {
	ch    chan os.Signal
	ready chan struct{}
}

// catchSignals starts catching ForwardedSignals in the background and
// returns at once: signal.Notify costs about 1 ms (a round trip per
// signal to the runtime's signal-mask thread, and two sigactions), which
// then overlaps the container's creation. Call wait before the process
// exists: from then on no signal is lost, each waits in the channel.
// They stay caught until this process exits: no signal.Stop (0.6-0.75 ms)
// on the way out, so a signal during the delete that follows cannot
// kill us half-way either.
func catchSignals() *caught {
	c := &caught{ch: make(chan os.Signal, 32), ready: make(chan struct{})}
	go func() {
		signal.Notify(c.ch, ForwardedSignals...)
		close(c.ready)
	}()
	return c
}

// wait returns once the signals are caught.
func (c *caught) wait() { <-c.ready }

func forwardSignal(c *Container, s os.Signal, tty *ttyProxy) {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return
	}
	switch sig {
	case unix.SIGCHLD, unix.SIGURG, unix.SIGPIPE:
		// SIGCHLD is ours (the init is our child); the Go runtime uses
		// SIGURG for preemption.
		return
	case unix.SIGWINCH:
		if tty != nil {
			tty.resize()
		}
		return
	}
	unix.Kill(c.Init.Pid, sig)
}

// ExitCode is the exit status a runtime returns for its foreground
// process: the program's, or 128+N if signal N killed it (runc's, and a
// shell's, convention); 255 without a status.
func ExitCode(ps *os.ProcessState) int {
	if ps == nil {
		return 255
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
