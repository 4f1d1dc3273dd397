package caps

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
)

// Status is the five sets of one thread, as /proc/PID/status shows them
// (for a PID, the thread group leader's).
type Status struct {
	Inheritable Mask // CapInh
	Permitted   Mask // CapPrm
	Effective   Mask // CapEff
	Bounding    Mask // CapBnd
	Ambient     Mask // CapAmb (Linux 4.3+)
}

// ReadStatus reads the sets of process pid from /proc/PID/status; pid 0
// means the calling thread (/proc/thread-self/status), the one to look at
// after changing capabilities on a locked thread.
func ReadStatus(pid int) (Status, error) {
	path := "/proc/thread-self/status"
	if pid != 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	f, err := os.Open(path)
	if err != nil {
		return Status{}, errorf("capabilities of pid %d: %w", pid, err)
	}
	defer f.Close()
	st, err := ParseStatus(f)
	if err != nil {
		return Status{}, errorf("capabilities of pid %d: %s: %w", pid, path, err)
	}
	return st, nil
}

// ParseStatus reads the Cap* lines of a /proc/PID/status file. All five
// must be there, except CapAmb, which kernels before 4.3 do not print.
func ParseStatus(r io.Reader) (Status, error) {
	var st Status
	fields := map[string]*Mask{
		"CapInh": &st.Inheritable,
		"CapPrm": &st.Permitted,
		"CapEff": &st.Effective,
		"CapBnd": &st.Bounding,
		"CapAmb": &st.Ambient,
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		m, want := fields[key]
		if !ok || !want {
			continue
		}
		v, err := ParseMask(val)
		if err != nil {
			return Status{}, errorf("%s: %w", key, err)
		}
		*m = v
		seen[key] = true
	}
	if err := sc.Err(); err != nil {
		return Status{}, err
	}
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd"} {
		if !seen[k] {
			return Status{}, errorf("no %s line", k)
		}
	}
	return st, nil
}
