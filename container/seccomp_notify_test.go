package container

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The agent gets the whole state (larger than one sendmsg carries) and
// the fd with it, on one connection, as config-linux.md says.
func TestSendContainerProcessState(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	big := strings.Repeat("x", 4<<20) // beyond the socket buffer
	state := &specs.ContainerProcessState{Version: specs.Version, Fds: []string{specs.SeccompFdName}, Pid: 42,
		Metadata: "meta", State: specs.State{ID: "c1", Annotations: map[string]string{"big": big}}}
	type got struct {
		state specs.ContainerProcessState
		fds   int
		err   error
	}
	done := make(chan got, 1)
	go func() {
		var g got
		defer func() { done <- g }()
		c, err := l.AcceptUnix()
		if err != nil {
			g.err = err
			return
		}
		defer c.Close()
		buf, oob := make([]byte, 64<<10), make([]byte, unix.CmsgSpace(4*4))
		n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
		if err != nil {
			g.err = err
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			g.err = err
			return
		}
		for _, m := range msgs {
			fds, _ := unix.ParseUnixRights(&m)
			g.fds += len(fds)
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
		rest, err := io.ReadAll(c)
		if err != nil {
			g.err = err
			return
		}
		g.err = json.Unmarshal(append(buf[:n], rest...), &g.state)
	}()
	f, err := os.Open("/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := sendContainerProcessState(path, state, f); err != nil {
		t.Fatal(err)
	}
	g := <-done
	if g.err != nil {
		t.Fatal(g.err)
	}
	if g.fds != 1 || g.state.Pid != 42 || g.state.Metadata != "meta" || g.state.State.Annotations["big"] != big {
		t.Errorf("agent got %d fds, pid %d, metadata %q, annotation of %d bytes", g.fds, g.state.Pid, g.state.Metadata, len(g.state.State.Annotations["big"]))
	}
}

func TestSendContainerProcessStateNoAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.sock")
	err := sendContainerProcessState(path, &specs.ContainerProcessState{}, os.Stdin)
	if !errors.Is(err, unix.ENOENT) || err.Error() != "seccomp listener "+path+": no such file or directory" {
		t.Errorf("no agent: %v, want one line naming the path with ENOENT", err)
	}
}
