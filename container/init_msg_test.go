package container

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncMessageSizes sends messages far larger than a socket buffer
// (a SOCK_SEQPACKET message over ~208 KiB used to fail with EMSGSIZE)
// and checks each arrives whole, in order, then EOF.
func TestSyncMessageSizes(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	sizes := []int{0, 1, 4095, 300 << 10, 10 << 20}
	done := make(chan error, 1)
	go func() {
		defer a.Close()
		for _, n := range sizes {
			if err := sendMsg(a, &syncMsg{Type: msgError, Error: strings.Repeat("x", n)}); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for _, n := range sizes {
		var m syncMsg
		if err := recvMsg(b, &m); err != nil {
			t.Fatalf("message of %d bytes: %v", n, err)
		}
		if len(m.Error) != n {
			t.Fatalf("got %d bytes, sent %d", len(m.Error), n)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var m syncMsg
	if err := recvMsg(b, &m); err == nil || !strings.Contains(err.Error(), "peer closed") {
		t.Fatalf("after the last message: %v, want peer closed", err)
	}
}

// TestSyncMessageFd passes an fd with a message and reads both back.
func TestSyncMessageFd(t *testing.T) {
	a, b, err := socketPair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := sendMsgFd(a, &syncMsg{Type: msgReady}, int(w.Fd())); err != nil {
		t.Fatal(err)
	}
	if err := sendMsg(a, &syncMsg{Type: msgGo}); err != nil {
		t.Fatal(err)
	}
	var m syncMsg
	fd, err := recvMsgFd(b, &m)
	if err != nil || fd < 0 || m.Type != msgReady {
		t.Fatalf("recvMsgFd = %d, %+v, %v", fd, m, err)
	}
	if _, err := unix.Write(fd, []byte("y")); err != nil {
		t.Fatalf("write to the passed fd: %v", err)
	}
	unix.Close(fd)
	buf := make([]byte, 1)
	if _, err := r.Read(buf); err != nil || buf[0] != 'y' {
		t.Fatalf("read from the pipe: %q, %v", buf, err)
	}
	if err := recvMsg(b, &m); err != nil || m.Type != msgGo {
		t.Fatalf("next message: %+v, %v", m, err)
	}
}
