package integration

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// consoleOutput listens on a console socket, takes the one pty master
// sent there and returns what the terminal showed once every holder of
// its other end is gone (a read gives EIO).
func consoleOutput(t *testing.T) (path string, output func() string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	type got struct {
		master *os.File
		err    string
	}
	ch := make(chan got, 1)
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			ch <- got{err: "accept: " + err.Error()}
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 256), make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || perr != nil || len(msgs) != 1 {
			ch <- got{err: fmt.Sprintf("no SCM_RIGHTS message: %v %v", err, perr)}
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			ch <- got{err: fmt.Sprintf("no fd: %v", err)}
			return
		}
		ch <- got{master: os.NewFile(uintptr(fds[0]), "pty-master")}
	}()
	// Read only when asked (after start): a read before the program
	// holds the terminal end could see EIO and close the pty.
	read := func() string {
		g := <-ch
		if g.err != "" {
			return g.err
		}
		defer g.master.Close()
		var out []byte
		b := make([]byte, 1024)
		for {
			n, err := g.master.Read(b)
			out = append(out, b[:n]...)
			if err != nil {
				return string(out)
			}
		}
	}
	return path, func() string { return strings.ReplaceAll(read(), "\r", "") }
}

// TestUserGetsTerminalOwnedByProcessUser: with process.terminal and a
// non-root process.user, the pty the program gets is owned by its uid
// (runc's fixStdioPermissions), its group the devpts gid=5 (tty), for
// run, create with a console socket, and exec -t --user.
func TestUserGetsTerminalOwnedByProcessUser(t *testing.T) {
	const script = `stat -c owner=%u:%g $(tty)`
	const want = "owner=1000:5\n"
	user := specs.User{UID: 1000, GID: 1000}
	t.Run("run", func(t *testing.T) {
		b := newBundle(t, "ttyrun", "sh", "-c", script)
		b.spec.Process.Terminal, b.spec.Process.User = true, user
		b.write()
		r := b.must("run", "-b", b.dir, b.id)
		if got := strings.ReplaceAll(r.stdout, "\r", ""); got != want {
			t.Errorf("run showed %q, want %q", got, want)
		}
	})
	t.Run("create", func(t *testing.T) {
		b := newBundle(t, "ttycreate", "sh", "-c", script)
		b.spec.Process.Terminal, b.spec.Process.User = true, user
		b.write()
		sock, output := consoleOutput(t)
		b.mustDetached("create", "--console-socket", sock, "-b", b.dir, b.id)
		b.must("start", b.id)
		if got := output(); got != want {
			t.Errorf("create+start showed %q, want %q", got, want)
		}
		b.waitStatus(b.id, "stopped")
		b.must("delete", b.id)
	})
	t.Run("exec", func(t *testing.T) {
		b := newBundle(t, "ttyexec", "sleep", "1000")
		b.mustDetached("run", "-d", "-b", b.dir, b.id)
		r := b.must("exec", "-t", "--user", "1000:1000", b.id, "sh", "-c", script)
		if got := strings.ReplaceAll(r.stdout, "\r", ""); got != want {
			t.Errorf("exec -t --user showed %q, want %q", got, want)
		}
		sock, output := consoleOutput(t)
		b.mustDetached("exec", "-t", "-d", "--console-socket", sock, "--user", "1000", b.id, "sh", "-c", script)
		if got := output(); got != want {
			t.Errorf("exec -t -d --console-socket showed %q, want %q", got, want)
		}
		b.must("delete", "--force", b.id)
	})
}

// TestUserSeesExecTerminalOutputOnce: `exec -t` from a terminal puts that
// terminal in raw mode (output processing off, as runc), so the
// container's "\r\n" reaches it unchanged, not as "\r\r\n", and the
// terminal's modes are given back afterwards.
func TestUserSeesExecTerminalOutputOnce(t *testing.T) {
	b := newBundle(t, "rawtty", "sleep", "1000")
	b.mustDetached("run", "-d", "-b", b.dir, b.id)
	defer b.must("delete", "--force", b.id)
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	r1, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		t.Fatalf("TIOCGPTPEER: %v", errno)
	}
	fd := int(r1)
	slave := os.NewFile(uintptr(fd), "pty")
	defer slave.Close()
	before, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		var out []byte
		buf := make([]byte, 256)
		for {
			n, err := master.Read(buf) // EIO once no one holds the terminal end
			out = append(out, buf[:n]...)
			if err != nil {
				got <- out
				return
			}
		}
	}()
	cmd := exec.Command(binary, b.args("exec", "-t", b.id, "echo", "out")...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := cmd.Run(); err != nil {
		t.Fatalf("exec -t: %v", err)
	}
	after, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	slave.Close()
	out := <-got
	if s := strings.ReplaceAll(string(out), "\x00", ""); s != "out\r\n" {
		t.Errorf("the terminal shows %q, want %q", s, "out\r\n")
	}
	if *after != *before {
		t.Errorf("terminal modes not given back:\nbefore %+v\nafter  %+v", before, after)
	}
}
