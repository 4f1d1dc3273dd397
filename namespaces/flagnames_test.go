package namespaces

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestFormatFlagsOrder: flags are named in ascending bit order (the
// table is kept sorted), SIGCHLD by name, the rest in hex.
func TestFormatFlagsOrder(t *testing.T) {
	for i := 1; i < len(flagNames); i++ {
		if flagNames[i-1].bit >= flagNames[i].bit {
			t.Fatalf("flagNames not in ascending bit order at %s", flagNames[i].name)
		}
	}
	for _, tt := range []struct {
		flags uintptr
		want  string
	}{
		{0, "0"},
		{unix.CLONE_NEWUSER | unix.CLONE_NEWNS, "CLONE_NEWNS|CLONE_NEWUSER"},
		{unix.CLONE_NEWNET | unix.CLONE_NEWPID | unix.CLONE_NEWUSER | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWNS | unix.CLONE_PARENT | unix.CLONE_NEWTIME,
			"CLONE_NEWTIME|CLONE_PARENT|CLONE_NEWNS|CLONE_NEWCGROUP|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWUSER|CLONE_NEWPID|CLONE_NEWNET"},
		{unix.CLONE_NEWPID | uintptr(unix.SIGCHLD), "CLONE_NEWPID|SIGCHLD"},
		{unix.CLONE_VM | unix.CLONE_NEWNS, "CLONE_NEWNS|0x100"},
	} {
		if got := FormatFlags(tt.flags); got != tt.want {
			t.Errorf("FormatFlags(%#x) = %q, want %q", tt.flags, got, tt.want)
		}
	}
}
